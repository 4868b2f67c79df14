using Akka.Actor;
using Akka.Cluster;
using RingActors.Actors.Protocol;

namespace RingActors.Actors.Cluster;

/// <summary>
/// Which members of a role a coordinator gives work to. With TLS, only those that proved, in answer to a fresh challenge to
/// their node agent, that they hold the key of a trusted certificate naming the role (<see cref="MembershipProofs"/>); a
/// member's verdict is kept per incarnation (<see cref="UniqueAddress"/>), and a refusal is reported once. A member that does
/// not answer in time is left out this time and asked again next time. Without TLS (a loopback cluster) nothing can be
/// proved: every member that declares the role is admitted (docs/security.md).
/// </summary>
public sealed class MemberAdmission(ActorSystem system, PeerTrust? trust)
{
    private readonly Dictionary<UniqueAddress, string?> _verdicts = [];

    /// <summary>Whether members must prove their role (TLS is on).</summary>
    public bool ChecksProofs => trust is not null;

    /// <summary>
    /// The members of <paramref name="members"/> admitted for <paramref name="role"/>, in their order; <paramref name="refused"/>
    /// gets one line per member refused (once per incarnation).
    /// </summary>
    public async Task<IReadOnlyList<Member>> AdmitAsync(IReadOnlyList<Member> members, string role, TimeSpan timeout, Action<string> refused, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(refused);
        if (trust is null)
        {
            return members;
        }

        var unknown = members.Where(m => !_verdicts.ContainsKey(m.UniqueAddress)).ToList();
        var answers = await Task.WhenAll(unknown.Select(m => AskAsync(m.Address, role, timeout, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < unknown.Count; i++)
        {
            if (answers[i] is not { } verdict)
            {
                refused($"member {unknown[i].Address} did not prove its {role} role within {timeout.TotalSeconds:0.#} s; not given work this time");
                continue;
            }

            _verdicts[unknown[i].UniqueAddress] = verdict.Refusal;
            if (verdict.Refusal is { } why)
            {
                refused($"member {unknown[i].Address} declares role {role} but is not given work: {why}");
            }
        }

        return members.Where(m => _verdicts.TryGetValue(m.UniqueAddress, out var why) && why is null).ToList();
    }

    /// <summary>The verdict on the member at <paramref name="member"/>; null when it did not answer in time.</summary>
    private async Task<Verdict?> AskAsync(Address member, string role, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var challenge = MembershipProofs.Challenge();
        try
        {
            var proof = await system.ActorSelection(NodeAgent.Path(member)).Ask<MembershipProof>(challenge, timeout, cancellationToken).ConfigureAwait(false);
            return new Verdict(MembershipProofs.Refusal(proof, challenge.Nonce, member, role, trust!, DateTimeOffset.UtcNow));
        }
        catch (AskTimeoutException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private sealed record Verdict(string? Refusal);
}
