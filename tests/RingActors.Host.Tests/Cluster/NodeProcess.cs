using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// A <c>ringactors</c> process started from the built dll (<c>dotnet ringactors.dll …</c>), its output collected line
/// by line. Dispose kills it if it is still running, so no test leaves a node behind.
/// </summary>
internal sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<string> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process) => _process = process;

    /// <summary>The address the node printed when it was Up; faults if the process exits first.</summary>
    public Task<string> Up => _up.Task;

    public int Id => _process.Id;

    /// <summary>Whether the process has ended (a crash order obeyed would end a node at once).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything printed so far, stdout and stderr interleaved.</summary>
    public string Output => string.Join('\n', _lines);

    /// <summary>The lines printed so far, stdout and stderr interleaved, in the order they arrived.</summary>
    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <summary>The built ringactors.dll: next to this test assembly (the Host project is referenced), else in src/Host/bin.</summary>
    public static string HostDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "ringactors.dll");
        if (File.Exists(local) && File.Exists(Path.ChangeExtension(local, ".runtimeconfig.json")))
        {
            return local;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var built = new DirectoryInfo(Path.Combine(directory.FullName, "src", "Host", "bin"));
            if (built.Exists)
            {
                return built.EnumerateFiles("ringactors.dll", SearchOption.AllDirectories)
                    .OrderByDescending(file => file.LastWriteTimeUtc)
                    .First().FullName;
            }
        }

        throw new FileNotFoundException("ringactors.dll not found next to the tests nor under src/Host/bin; build src/Host first");
    }

    /// <summary>A port that was free a moment ago (bound to port 0 and released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static NodeProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostDll());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new NodeProcess(process);
        process.OutputDataReceived += (_, line) => node.Received(line.Data);
        process.ErrorDataReceived += (_, line) => node.Received(line.Data);
        process.Exited += (_, _) => node._up.TrySetException(new InvalidOperationException($"node exited before it was Up:\n{node.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Sends a POSIX signal (TERM, INT) the way a terminal or an orchestrator would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^node (\S+) is Up, role \w+$")]
    private static partial Regex UpLine();

    private void Received(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        if (UpLine().Match(line) is { Success: true } match)
        {
            _up.TrySetResult(match.Groups[1].Value);
        }
    }
}
