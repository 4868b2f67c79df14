using System.Security.Cryptography.X509Certificates;
using RingActors.Actors.Cluster;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>Which TLS peer certificates a node accepts: its cluster's CA or a pin, within the validity period, nothing else.</summary>
public sealed class PeerTrustSpec : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void PeerTrust_must_accept_a_valid_certificate_of_its_CA_and_refuse_another_CAs()
    {
        var ours = _certificates.CreateAuthority("ring-ca");
        var theirs = _certificates.CreateAuthority("other-ca");
        var trust = new PeerTrust(PeerTrust.LoadAuthorities(ours.CertificatePath), []);

        Assert.Null(trust.Refusal(ours.IssueCertificate("node-1"), null, DateTimeOffset.UtcNow));
        Assert.Null(trust.Refusal(ours.IssueCertificate("node-2"), null, DateTimeOffset.UtcNow));
        var refusal = trust.Refusal(theirs.IssueCertificate("intruder"), null, DateTimeOffset.UtcNow);
        Assert.Contains("'CN=intruder'", refusal, StringComparison.Ordinal);
        Assert.Contains("neither signed by this cluster's CA nor pinned", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerTrust_must_refuse_a_certificate_outside_its_validity_even_from_its_CA_or_pinned()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var expired = ca.IssueCertificate("old-node", DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-10));
        var future = ca.IssueCertificate("early-node", DateTimeOffset.UtcNow.AddDays(10), DateTimeOffset.UtcNow.AddDays(20));
        var trust = new PeerTrust([ca.Certificate], [PeerTrust.Sha256(expired), PeerTrust.Sha256(future)]);

        Assert.Contains("expired on", trust.Refusal(expired, null, DateTimeOffset.UtcNow), StringComparison.Ordinal);
        Assert.Contains("is not valid before", trust.Refusal(future, null, DateTimeOffset.UtcNow), StringComparison.Ordinal);

        // The same certificates in their time are accepted: the clock, not the certificate, decided.
        Assert.Null(trust.Refusal(expired, null, DateTimeOffset.UtcNow.AddDays(-15)));
    }

    [Fact]
    public void PeerTrust_must_accept_a_pinned_certificate_by_SHA256_or_SHA1_and_refuse_an_unpinned_one()
    {
        var pinned = _certificates.SelfSigned("node-a");
        var other = _certificates.SelfSigned("node-b");
        var colons = string.Join(':', Enumerable.Range(0, 20).Select(i => pinned.Thumbprint.Substring(i * 2, 2).ToLowerInvariant()));

        Assert.Null(new PeerTrust([], [PeerTrust.Sha256(pinned)]).Refusal(pinned, null, DateTimeOffset.UtcNow));
        Assert.Null(new PeerTrust([], [colons]).Refusal(pinned, null, DateTimeOffset.UtcNow));
        Assert.NotNull(new PeerTrust([], [PeerTrust.Sha256(pinned)]).Refusal(other, null, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void PeerTrust_must_refuse_a_peer_without_a_certificate()
    {
        var trust = new PeerTrust([], [PeerTrust.Sha256(_certificates.SelfSigned("node-a"))]);
        Assert.Equal("presented no certificate", trust.Refusal(null, null, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void PeerTrust_must_need_a_CA_or_a_pin_and_well_formed_pins()
    {
        var none = Assert.Throws<ArgumentException>(() => new PeerTrust([], []));
        Assert.Contains("TLS needs whom to trust", none.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentException>(() => new PeerTrust([], ["ABC123"]));
        Assert.Contains("must be 40 (SHA-1) or 64 (SHA-256) hex digits", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PeerTrust_must_load_a_CA_from_PEM_or_DER_and_refuse_a_missing_file()
    {
        var ca = _certificates.CreateAuthority("ring-ca");
        var der = Path.Combine(_certificates.Folder, "ring-ca.der");
        File.WriteAllBytes(der, ca.Certificate.Export(X509ContentType.Cert));

        Assert.Equal(ca.Certificate.Thumbprint, Assert.Single(PeerTrust.LoadAuthorities(ca.CertificatePath)).Thumbprint);
        Assert.Equal(ca.Certificate.Thumbprint, Assert.Single(PeerTrust.LoadAuthorities(der)).Thumbprint);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => PeerTrust.LoadAuthorities(der + ".missing")).Message, StringComparison.Ordinal);
    }
}
