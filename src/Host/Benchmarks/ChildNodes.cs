using System.Collections.Concurrent;
using System.Diagnostics;

namespace RingActors.Host.Benchmarks;

/// <summary>
/// <c>ringactors node --role device</c> processes started by a benchmark as children of this process (same host program,
/// same dll), on loopback. Disposing kills every one still running: a benchmark never leaves a node behind.
/// </summary>
public sealed class ChildNodes : IAsyncDisposable
{
    /// <summary>Lines of a child's output kept for <see cref="OutputOf"/>: enough for a stack trace.</summary>
    private const int KeptLines = 200;

    private readonly List<Process> _processes = [];
    private readonly ConcurrentDictionary<int, ConcurrentQueue<string>> _output = new();

    /// <summary>The children started so far, in start order.</summary>
    public IReadOnlyList<Process> Processes => _processes;

    /// <summary>Starts one device node that joins <paramref name="seed"/>, with <paramref name="configFile"/> layered over its defaults when given.</summary>
    public Process StartDevice(string seed, string? configFile = null)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(ChildNodes).Assembly.Location);
        }

        foreach (var arg in new[] { "node", "--role", "device", "--seed", seed })
        {
            start.ArgumentList.Add(arg);
        }

        if (configFile is not null)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(configFile);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {host}");

        // Drain the pipes so a chatty node never blocks on a full buffer; keep the last lines to explain an early exit.
        var lines = _output.GetOrAdd(process.Id, _ => new ConcurrentQueue<string>());
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lines.Enqueue(line);
            while (lines.Count > KeptLines && lines.TryDequeue(out _))
            {
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    /// <summary>The last lines <paramref name="process"/> printed (stdout and stderr interleaved).</summary>
    public string OutputOf(Process process) =>
        _output.TryGetValue(process.Id, out var lines) ? string.Join('\n', lines) : string.Empty;

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _processes)
        {
            // The device nodes are ours alone: never leave one running, whatever happened before.
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }

            child.Dispose();
        }

        _processes.Clear();
    }
}
