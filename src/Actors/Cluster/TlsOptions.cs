namespace RingActors.Actors.Cluster;

/// <summary>
/// TLS between nodes: this node's PKCS#12 (.pfx) certificate with its private key (each node may have its own), its
/// password, and whom to trust: the cluster's CA certificates (<see cref="Authorities"/>, PEM or DER files) and/or pinned
/// peer thumbprints (<see cref="Pinned"/>). At least one of the two must be given (<see cref="PeerTrust"/>). A null
/// <see cref="Password"/> falls back on the configuration's, then on <see cref="PasswordVariable"/>.
/// </summary>
public sealed record TlsOptions(string CertificatePath, string? Password)
{
    /// <summary>The environment variable a node reads the certificate's password from when none is given otherwise.</summary>
    public const string PasswordVariable = "RINGACTORS_TLS_PASSWORD";

    /// <summary>CA certificate files: a peer whose certificate chains to one of them is accepted.</summary>
    public IReadOnlyList<string> Authorities { get; init; } = [];

    /// <summary>Peer certificate thumbprints (SHA-256 or SHA-1, hex, colons allowed) accepted as they are.</summary>
    public IReadOnlyList<string> Pinned { get; init; } = [];

    /// <summary>
    /// The password in <paramref name="file"/> (its first line; a file keeps it out of <c>ps</c> and shell history), else null.
    /// Throws an <see cref="ArgumentException"/> when the file does not exist or cannot be read.
    /// </summary>
    public static string? ReadPasswordFile(string? file)
    {
        if (file is null)
        {
            return null;
        }

        if (!File.Exists(file))
        {
            throw new ArgumentException($"TLS password file '{Path.GetFullPath(file)}' does not exist", nameof(file));
        }

        try
        {
            using var reader = new StreamReader(file);
            return reader.ReadLine() ?? string.Empty;
        }
        catch (IOException error)
        {
            throw new ArgumentException($"cannot read TLS password file '{file}': {error.Message}", nameof(file), error);
        }
        catch (UnauthorizedAccessException error)
        {
            throw new ArgumentException($"cannot read TLS password file '{file}': {error.Message}", nameof(file), error);
        }
    }
}
