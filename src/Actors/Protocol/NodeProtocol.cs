namespace RingActors.Actors.Protocol;

/// <summary>Supervisor → a node's agent: end the node now; <paramref name="Fault"/> names the fault (crash-node:…@S) for its log.</summary>
public sealed record CrashOrder(string Fault) : IRingMessage;

/// <summary>
/// Coordinator → a member's node agent: prove that you hold a certificate the cluster trusts and which roles it names, by
/// signing <paramref name="Nonce"/> (32 fresh random bytes) together with your own address.
/// </summary>
public sealed record ProveMembership(byte[] Nonce) : IRingMessage
{
    /// <summary>Bytes of a challenge.</summary>
    public const int NonceBytes = 32;
}

/// <summary>
/// Node agent → coordinator: this node's certificate (DER, no key) and its signature over the nonce and the node's address
/// (see <c>MembershipProofs</c>); both empty from a node without TLS.
/// </summary>
public sealed record MembershipProof(byte[] Certificate, byte[] Signature) : IRingMessage
{
    /// <summary>Largest certificate (DER) a proof may carry.</summary>
    public const int MaxCertificateBytes = 16 * 1024;

    /// <summary>Largest signature a proof may carry (RSA-8192 is 1 KiB).</summary>
    public const int MaxSignatureBytes = 2048;
}
