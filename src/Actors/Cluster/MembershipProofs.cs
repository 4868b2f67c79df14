using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Cluster;

/// <summary>
/// A member proves who it is (plain class, no actor): the coordinator sends a node agent 32 random bytes; the agent signs
/// them, with its own address, using the private key of its TLS certificate, and returns the certificate and signature.
/// The coordinator accepts the member for a role only if the certificate is trusted (<see cref="PeerTrust"/>), names the
/// role (<see cref="CertificateRoles"/>), and the signature over this nonce and <em>this member's address</em> verifies with
/// it. The address in the signed text keeps a member from relaying the challenge to an honest device node and passing off
/// that node's answer as its own; the fresh nonce keeps an old answer from being replayed.
/// </summary>
public static class MembershipProofs
{
    /// <summary>A fresh challenge.</summary>
    public static ProveMembership Challenge() => new(RandomNumberGenerator.GetBytes(ProveMembership.NonceBytes));

    /// <summary>The text that is signed: a fixed label, the member's address, the nonce.</summary>
    public static byte[] SignedText(byte[] nonce, Address member)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(member);
        return [.. Encoding.UTF8.GetBytes($"ringactors membership proof v1\n{member}\n"), .. nonce];
    }

    /// <summary>The answer of the node at <paramref name="self"/> holding <paramref name="own"/> (null: no TLS, an empty proof).</summary>
    public static MembershipProof Answer(ProveMembership challenge, Address self, X509Certificate2? own)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        if (own is null || challenge.Nonce.Length != ProveMembership.NonceBytes)
        {
            return new MembershipProof([], []);
        }

        var text = SignedText(challenge.Nonce, self);
        byte[]? signature = null;
        using (var rsa = own.GetRSAPrivateKey())
        {
            signature = rsa?.SignData(text, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        }

        if (signature is null)
        {
            using var ecdsa = own.GetECDsaPrivateKey();
            signature = ecdsa?.SignData(text, HashAlgorithmName.SHA256);
        }

        return new MembershipProof(own.RawData, signature ?? []);
    }

    /// <summary>
    /// Null when <paramref name="proof"/>, the answer of <paramref name="member"/> to <paramref name="nonce"/>, shows a
    /// certificate <paramref name="trust"/> accepts at <paramref name="now"/>, naming <paramref name="role"/>, whose key signed
    /// the nonce and the member's address; otherwise why not, in a few words.
    /// </summary>
    public static string? Refusal(MembershipProof proof, byte[] nonce, Address member, string role, PeerTrust trust, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(trust);
        if (proof.Certificate.Length == 0)
        {
            return "it presented no certificate (a node without TLS)";
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(proof.Certificate);
        }
        catch (CryptographicException error)
        {
            return $"its certificate cannot be read: {error.Message}";
        }

        using (certificate)
        {
            if (trust.Refusal(certificate, null, now) is { } refused)
            {
                return refused;
            }

            var roles = CertificateRoles.Of(certificate);
            if (!roles.Contains(role))
            {
                var named = roles.Count == 0 ? "no role" : "only " + string.Join(", ", roles.Order(StringComparer.Ordinal));
                return $"its certificate '{certificate.Subject}' names {named}, not {CertificateRoles.Uri(role)}";
            }

            return Verifies(certificate, SignedText(nonce, member), proof.Signature)
                ? null
                : $"its signature does not prove it holds the key of '{certificate.Subject}' at {member}";
        }
    }

    private static bool Verifies(X509Certificate2 certificate, byte[] text, byte[] signature)
    {
        try
        {
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is not null)
            {
                return rsa.VerifyData(text, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            }

            using var ecdsa = certificate.GetECDsaPublicKey();
            return ecdsa is not null && ecdsa.VerifyData(text, signature, HashAlgorithmName.SHA256);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
