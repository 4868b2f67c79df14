using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Which TLS peers a node accepts, with no Akka: a certificate in its validity period that either chains to one of the
/// cluster's own certificate authorities (<see cref="Authorities"/>, never the machine's store) or is pinned by thumbprint
/// (<see cref="Pinned"/>, SHA-256 or SHA-1, hex). Each node may thus have its own certificate and key. No certificate, an
/// expired or not-yet-valid one, or one from another CA is refused. Revocation is not checked: to take a node out, rotate
/// the CA or drop its pin (docs/security.md).
/// </summary>
public sealed class PeerTrust
{
    private readonly X509Certificate2Collection _authorities;

    public PeerTrust(IEnumerable<X509Certificate2> authorities, IEnumerable<string> pinned)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        ArgumentNullException.ThrowIfNull(pinned);
        _authorities = new X509Certificate2Collection(authorities.ToArray());
        Pinned = pinned.Select(Normalize).Where(t => t.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var pin in Pinned)
        {
            if (pin.Length is not (40 or 64) || !pin.All(char.IsAsciiHexDigit))
            {
                throw new ArgumentException($"trusted thumbprint '{pin}' must be 40 (SHA-1) or 64 (SHA-256) hex digits", nameof(pinned));
            }
        }

        if (_authorities.Count == 0 && Pinned.Count == 0)
        {
            throw new ArgumentException(
                "TLS needs whom to trust: the cluster's CA certificate (--tls-ca FILE, ring-actors.tls.ca-certificates) or pinned thumbprints (--tls-trust HEX, ring-actors.tls.trusted-thumbprints)",
                nameof(authorities));
        }
    }

    /// <summary>The certificate authorities whose certificates are accepted.</summary>
    public IReadOnlyList<X509Certificate2> Authorities => [.. _authorities];

    /// <summary>The pinned thumbprints, upper-case hex without separators.</summary>
    public IReadOnlySet<string> Pinned { get; }

    /// <summary>
    /// Null when <paramref name="peer"/> is accepted at <paramref name="now"/>; otherwise why not. <paramref name="presented"/>
    /// (the chain the peer sent, may be null) only supplies intermediate certificates; trust never comes from it.
    /// </summary>
    public string? Refusal(X509Certificate2? peer, X509Chain? presented, DateTimeOffset now)
    {
        if (peer is null)
        {
            return "presented no certificate";
        }

        if (now.UtcDateTime < peer.NotBefore.ToUniversalTime())
        {
            return $"certificate {Describe(peer)} is not valid before {peer.NotBefore.ToUniversalTime():u}";
        }

        if (now.UtcDateTime > peer.NotAfter.ToUniversalTime())
        {
            return $"certificate {Describe(peer)} expired on {peer.NotAfter.ToUniversalTime():u}";
        }

        if (Pinned.Contains(peer.Thumbprint.ToUpperInvariant()) || Pinned.Contains(Sha256(peer)))
        {
            return null;
        }

        if (_authorities.Count > 0 && ChainsToAuthority(peer, presented, now))
        {
            return null;
        }

        return $"certificate {Describe(peer)} is neither signed by this cluster's CA nor pinned";
    }

    /// <summary>The SHA-256 thumbprint of <paramref name="certificate"/>, upper-case hex (what --tls-trust takes).</summary>
    public static string Sha256(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    /// <summary>Loads CA certificates from a PEM file (one or more certificates) or a DER file.</summary>
    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"TLS CA certificate '{Path.GetFullPath(path)}' does not exist", nameof(path));
        }

        var collection = new X509Certificate2Collection();
        try
        {
            if (File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                collection.ImportFromPemFile(path);
            }
            else
            {
                collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (CryptographicException error)
        {
            throw new ArgumentException($"cannot read TLS CA certificate '{path}' (PEM or DER): {error.Message}", nameof(path), error);
        }

        if (collection.Count == 0)
        {
            throw new ArgumentException($"TLS CA certificate '{path}' holds no certificate", nameof(path));
        }

        return collection;
    }

    private bool ChainsToAuthority(X509Certificate2 peer, X509Chain? presented, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(peer);
    }

    private static string Describe(X509Certificate2 certificate) => $"'{certificate.Subject}' ({Sha256(certificate)[..16]}…)";

    private static string Normalize(string thumbprint) =>
        thumbprint.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant();
}
