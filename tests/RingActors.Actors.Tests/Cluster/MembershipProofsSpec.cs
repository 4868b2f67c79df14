using Akka.Actor;
using RingActors.Actors.Cluster;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Tests.Cluster;

public sealed class MembershipProofsSpec : IDisposable
{
    private static readonly Address Member = Address.Parse("akka.ssl.tcp://ring@127.0.0.1:40001");
    private static readonly Address Other = Address.Parse("akka.ssl.tcp://ring@127.0.0.1:40002");
    private readonly TestCertificates _certificates = new();
    private readonly TestCertificates.Authority _ca;
    private readonly PeerTrust _trust;

    public MembershipProofsSpec()
    {
        _ca = _certificates.CreateAuthority("ring-ca");
        _trust = new PeerTrust([_ca.Certificate], []);
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void CertificateRoles_must_read_the_role_uris_of_a_certificate_and_nothing_else()
    {
        Assert.Equal(["coordinator", "device"], CertificateRoles.Of(_ca.IssueCertificate("both")).Order(StringComparer.Ordinal));
        Assert.Equal(["device"], CertificateRoles.Of(_ca.IssueCertificate("device", roles: ["device"])));
        Assert.Empty(CertificateRoles.Of(_ca.IssueCertificate("none", roles: [])));
        Assert.Empty(CertificateRoles.Of(_ca.Certificate)); // no SAN at all
    }

    [Fact]
    public void MembershipProofs_must_accept_a_trusted_certificate_naming_the_role_that_signed_this_nonce_and_this_address()
    {
        var challenge = MembershipProofs.Challenge();
        var proof = MembershipProofs.Answer(challenge, Member, _ca.IssueCertificate("node-1", roles: ["device"]));

        Assert.Null(MembershipProofs.Refusal(proof, challenge.Nonce, Member, "device", _trust, DateTimeOffset.UtcNow));
        Assert.Contains("names only device, not urn:ringactors:role:coordinator",
            MembershipProofs.Refusal(proof, challenge.Nonce, Member, "coordinator", _trust, DateTimeOffset.UtcNow), StringComparison.Ordinal);
    }

    [Fact]
    public void MembershipProofs_must_refuse_a_relayed_a_replayed_a_forged_an_untrusted_and_an_empty_proof()
    {
        var challenge = MembershipProofs.Challenge();
        var honest = _ca.IssueCertificate("honest-device", roles: ["device"]);
        var now = DateTimeOffset.UtcNow;

        // A member relays the challenge to an honest device node, which signs its own address: not the member's.
        var relayed = MembershipProofs.Answer(challenge, Other, honest);
        Assert.Contains("does not prove it holds the key", MembershipProofs.Refusal(relayed, challenge.Nonce, Member, "device", _trust, now), StringComparison.Ordinal);

        // An answer to an earlier challenge.
        var old = MembershipProofs.Answer(MembershipProofs.Challenge(), Member, honest);
        Assert.NotNull(MembershipProofs.Refusal(old, challenge.Nonce, Member, "device", _trust, now));

        // The honest node's certificate with a signature of another key.
        var mine = _ca.IssueCertificate("mine", roles: ["coordinator"]);
        var forged = new MembershipProof(honest.RawData, MembershipProofs.Answer(challenge, Member, mine).Signature);
        Assert.Contains("does not prove it holds the key", MembershipProofs.Refusal(forged, challenge.Nonce, Member, "device", _trust, now), StringComparison.Ordinal);

        var stranger = _certificates.CreateAuthority("other-ca").IssueCertificate("stranger", roles: ["device"]);
        Assert.Contains("neither signed by this cluster's CA nor pinned",
            MembershipProofs.Refusal(MembershipProofs.Answer(challenge, Member, stranger), challenge.Nonce, Member, "device", _trust, now), StringComparison.Ordinal);

        var empty = MembershipProofs.Answer(challenge, Member, null);
        Assert.Equal("it presented no certificate (a node without TLS)", MembershipProofs.Refusal(empty, challenge.Nonce, Member, "device", _trust, now));
        Assert.Contains("cannot be read", MembershipProofs.Refusal(new MembershipProof([1, 2, 3], [4]), challenge.Nonce, Member, "device", _trust, now), StringComparison.Ordinal);
        Assert.Contains("expired", MembershipProofs.Refusal(MembershipProofs.Answer(challenge, Member, honest), challenge.Nonce, Member, "device", _trust, now.AddDays(60)), StringComparison.Ordinal);
    }
}
