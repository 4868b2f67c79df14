using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RingActors.Actors.Tests.Cluster;

/// <summary>
/// Certificates for TLS specs, written to a temporary directory deleted on dispose: self-signed ones, and certificate
/// authorities (a cluster's CA, another cluster's) that issue node certificates, valid or not, as password-protected .pfx files.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public const string Password = "ring-test-password";

    private readonly string _directory = Directory.CreateTempSubdirectory("ring-tls-").FullName;
    private readonly List<IDisposable> _owned = [];

    public string Folder => _directory;

    /// <summary>A new self-signed certificate for client and server authentication (as openssl in hocon/tls.conf makes one), as a .pfx.</summary>
    public string Create(string name) => WritePfx(name, SelfSigned(name));

    /// <summary>The roles a node certificate names unless told otherwise: both, so any spec's node may be either.</summary>
    public static readonly string[] BothRoles = ["device", "coordinator"];

    /// <summary>A self-signed certificate with its key (in memory) for client and server authentication.</summary>
    public X509Certificate2 SelfSigned(string name)
    {
        var key = Own(RSA.Create(2048)); // kept until dispose: the certificate returned uses it
        var request = NodeRequest(name, key, BothRoles);
        return Own(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
    }

    /// <summary>A certificate authority valid from 30 days ago for a year; its certificate is written as PEM to <see cref="Authority.CertificatePath"/>.</summary>
    public Authority CreateAuthority(string name)
    {
        var key = Own(RSA.Create(2048)); // kept until dispose: the certificate returned uses it
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var certificate = Own(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(365)));
        var path = Path.Combine(_directory, name + ".crt");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return new Authority(this, certificate, path);
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private static CertificateRequest NodeRequest(string name, RSA key, IEnumerable<string> roles)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        foreach (var role in roles)
        {
            names.AddUri(new Uri(RingActors.Actors.Cluster.CertificateRoles.Uri(role)));
        }

        request.CertificateExtensions.Add(names.Build());
        return request;
    }

    private string WritePfx(string name, X509Certificate2 certificate)
    {
        var path = Path.Combine(_directory, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    private T Own<T>(T owned)
        where T : IDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>A CA of these specs: issues node certificates signed by its key.</summary>
    internal sealed class Authority(TestCertificates owner, X509Certificate2 certificate, string certificatePath)
    {
        public X509Certificate2 Certificate { get; } = certificate;

        /// <summary>The CA's certificate as a PEM file, what --tls-ca takes.</summary>
        public string CertificatePath { get; } = certificatePath;

        /// <summary>A node certificate with its key, valid from a day ago for 30 days unless told otherwise.</summary>
        public X509Certificate2 IssueCertificate(string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, IEnumerable<string>? roles = null)
        {
            var key = owner.Own(RSA.Create(2048)); // kept until dispose: the certificate returned uses it
            var request = NodeRequest(name, key, roles ?? BothRoles);
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
            var serial = RandomNumberGenerator.GetBytes(12);
            using var issued = request.Create(Certificate, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), serial);
            return owner.Own(issued.CopyWithPrivateKey(key));
        }

        /// <summary>The same, written as a .pfx with <see cref="Password"/>: what --tls-cert takes.</summary>
        public string Issue(string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, IEnumerable<string>? roles = null) =>
            owner.WritePfx(name, IssueCertificate(name, notBefore, notAfter, roles));
    }
}
