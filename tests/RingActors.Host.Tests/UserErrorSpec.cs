using System.Diagnostics;
using RingActors.Actors;
using RingActors.Host.Cli;
using RingActors.Host.Tests.Cluster;

namespace RingActors.Host.Tests;

/// <summary>Every way a command can end badly gives one line on stderr and the exit code of its kind, never a stack trace.</summary>
public sealed class UserErrorSpec
{
    [Fact]
    public void Report_must_give_a_user_error_one_line_without_the_parameter_suffix_and_exit_2()
    {
        var errors = new StringWriter();
        var code = UserError.Report(new ArgumentException("devices must be ≥ 1, got 0", "Devices"), errors);
        Assert.Equal(2, code);
        Assert.Equal("ringactors: error: devices must be ≥ 1, got 0" + Environment.NewLine, errors.ToString());
    }

    [Fact]
    public void Report_must_give_a_failed_job_one_line_and_exit_1()
    {
        var errors = new StringWriter();
        var code = UserError.Report(new RingJobException("job-7", "device 2 refused block 1 of device 0:\nframe too large"), errors);
        Assert.Equal(1, code);
        Assert.Equal("ringactors: error: ring job job-7 failed: device 2 refused block 1 of device 0: frame too large" + Environment.NewLine, errors.ToString());
    }

    [Fact]
    public void Report_must_give_an_unexpected_exception_its_type_and_message_on_one_line_and_exit_1()
    {
        Exception thrown;
        try
        {
            // Thrown, so the exception carries a stack trace that must not be printed.
            throw new InvalidOperationException("the supervisor\r\nanswered twice");
        }
        catch (InvalidOperationException error)
        {
            thrown = error;
        }

        Assert.NotNull(thrown.StackTrace);
        foreach (var error in new[] { thrown, new AggregateException(thrown) })
        {
            var errors = new StringWriter();
            Assert.Equal(1, UserError.Report(error, errors));
            Assert.Equal("ringactors: error: InvalidOperationException: the supervisor answered twice" + Environment.NewLine, errors.ToString());
        }
    }

    [Fact]
    public async Task A_run_past_its_deadline_must_print_one_line_and_exit_1_with_no_stack_trace_anywhere()
    {
        // A process of its own, so what Akka prints (its loggers write to the console, not to Program.Run's writer) is seen too.
        // 8192 tokens on 4 devices take far longer than the 1 ms deadline (which strikes at the scheduler's next 10 ms tick).
        var (exitCode, output, errors) = await RunProcessAsync("run", "--seq", "8192", "--heads", "2", "--kv-heads", "1", "--devices", "4", "--deadline", "0.001", "--pattern", "none", "--no-scaling", "--threads", "1");

        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{errors}");
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ringactors: error: ring job ", line, StringComparison.Ordinal);
        Assert.Contains("failed: not finished after 00:00:00.0010000", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + errors, StringComparison.Ordinal);
    }

    [Fact]
    public void An_experiment_whose_baseline_fails_must_print_one_line_and_exit_1()
    {
        // Akka's scheduler ticks every 10 ms, so the 1 ms deadline strikes after about 10 ms: the job must take longer than that
        // (N = 2048 took 8.9 ms once the kernel got faster, and finished first).
        var (exitCode, output, errors) = CommandLine.Run(
            "experiment", "--seq", "8192", "--heads", "2", "--kv-heads", "1", "--devices", "4", "--deadline", "0.001", "--fault", "drop:0", "--threads", "1");

        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{errors}");
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ringactors: error: the fault-free baseline run failed, no trial was run: not finished after", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + errors, StringComparison.Ordinal);
    }

    /// <summary>Runs the built ringactors.dll to its end and returns its exit code, stdout and stderr.</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> RunProcessAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(NodeProcess.HostDll());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ringactors");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            // A bound on a hung process, not a measurement: the run fails within seconds.
            using var hung = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(hung.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await output, await errors);
    }
}
