using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RingActors.Actors.Cluster;

/// <summary>
/// The cluster roles a node certificate grants: one subject-alternative-name URI <c>urn:ringactors:role:ROLE</c> per role
/// (openssl: <c>subjectAltName=URI:urn:ringactors:role:device</c>). With TLS on, a coordinator places devices only on members
/// whose certificate names <c>device</c> and who proved they hold its key (<see cref="MembershipProofs"/>), so the role a
/// member declares in <c>akka.cluster.roles</c> is not enough.
/// </summary>
public static class CertificateRoles
{
    /// <summary>What a role URI starts with.</summary>
    public const string UriPrefix = "urn:ringactors:role:";

    private const string SubjectAlternativeNameOid = "2.5.29.17";

    /// <summary>The role URI of <paramref name="role"/>, to put in a certificate.</summary>
    public static string Uri(string role) => UriPrefix + role;

    /// <summary>The roles <paramref name="certificate"/> names; empty when it names none or its SAN cannot be read.</summary>
    public static IReadOnlySet<string> Of(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var roles = new HashSet<string>(StringComparer.Ordinal);
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        foreach (var extension in certificate.Extensions.Where(e => e.Oid?.Value == SubjectAlternativeNameOid))
        {
            try
            {
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (tag.HasSameClassAndValue(uriTag))
                    {
                        var uri = names.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                        if (uri.StartsWith(UriPrefix, StringComparison.Ordinal) && uri.Length > UriPrefix.Length)
                        {
                            roles.Add(uri[UriPrefix.Length..]);
                        }
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                // A malformed SAN grants nothing.
            }
            catch (CryptographicException)
            {
            }
        }

        return roles;
    }
}
