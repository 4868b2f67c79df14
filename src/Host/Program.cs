using RingActors.Host.Cli;
using RingActors.Host.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RingActors.Host;

public static class Program
{
    public static int Main(string[] args)
    {
        // An exception on a thread of its own (a callback, a timer) bypasses Run's handler: the runtime would print its
        // trace and abort. It gets the same one line; exiting here is the only way to keep the runtime from printing it.
        AppDomain.CurrentDomain.UnhandledException += (_, unhandled) =>
        {
            UserError.Report(unhandled.ExceptionObject as Exception ?? new InvalidOperationException($"{unhandled.ExceptionObject}"), Console.Error);
            Environment.Exit(UserError.FailedExitCode);
        };

        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // Spectre assumes 80 columns when output goes to a file or pipe; report tables are wider than that.
            console.Profile.Width = 200;
        }

        return Run(args, console, Console.Error);
    }

    /// <summary>
    /// Runs the command line. Every exception becomes one line on stderr, never a stack trace: exit 2 for a user error,
    /// 1 for a ring job that failed or anything unexpected (<see cref="UserError.Report"/>).
    /// </summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter errors)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("ringactors");
            config.Settings.Console = console;
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddCommand<RunCommand>("run")
                .WithDescription("The ring of device actors on the embedded default (or your options / .npy files), compared with dense and sparse baselines.")
                .WithExample("run")
                .WithExample("run", "--devices", "8", "--layout", "striped", "--seq", "8192", "--json", "report.json")
                .WithExample("run", "--seq", "1048576", "--heads", "1", "--kv-heads", "1", "--dim", "32", "--devices", "8", "--causal", "--ring-pattern", "causal-window:1024", "--pattern", "none", "--no-scaling");
            config.AddCommand<ExperimentCommand>("experiment")
                .WithDescription("The ring job under injected faults (lost, delayed, duplicated hand-offs, killed or slow devices), K trials, each compared with dense.")
                .WithExample("experiment", "--seq", "1024", "--fault", "drop:0.05", "--fault", "kill-device:1@2", "--trials", "10", "--json", "faults.json")
                .WithExample("experiment", "--faults", "hocon/faults/mixed.conf");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Dense, blockwise and sparse attention on seeded random inputs, compared in one table.")
                .WithExample("compare", "--seq", "2048", "--no-causal", "--pattern", "window:256");
            config.AddCommand<PlanCommand>("plan")
                .WithDescription("Predict a Ring Attention pass on modelled hardware (virtual clock): time, overlap, minimal block size, memory; --table prints the paper's Table 2.")
                .WithExample("plan", "--profile", "a100-nvlink", "--devices", "8", "--seq", "524288", "--heads", "32", "--kv-heads", "8", "--dim", "128", "--dtype", "bf16", "--layout", "zigzag", "--causal")
                .WithExample("plan", "--table");
            config.AddCommand<NodeCommand>("node").WithDescription("A cluster node (device or coordinator): joins the seeds, prints its address when Up, leaves on Ctrl-C or SIGTERM.");
            config.AddBranch("bench", bench =>
            {
                bench.SetDescription("Benchmarks that print measured ratios side by side.");
                bench.AddCommand<RingBenchCommand>("ring")
                    .WithDescription("The ring of local device actors against the single-process kernel on the same input, and the protocol's per-step cost.");
                bench.AddCommand<KernelBenchCommand>("kernels")
                    .WithDescription("GFLOP/s of the attention kernels for 1 and 2 threads, next to numpy's dense attention when numpy is installed.");
                bench.AddCommand<PrecisionBenchCommand>("precision")
                    .WithDescription("Error of the ring's output and gradients against the float64 oracle for P = 2…32 devices, fp32 and bf16 partials side by side with their ratio.")
                    .WithExample("bench", "precision", "--json", "precision.json");
                bench.AddCommand<LongBenchCommand>("long")
                    .WithDescription("Long context on one machine: the ring for N from 8K to 1M (a sliding window beyond 64K), its time, peak RSS and per-device memory against the 6·b·c·h law, dense and blockwise memory; --plot draws memory against N.");
                bench.AddCommand<ClusterBenchCommand>("cluster")
                    .WithDescription("The ring over device node processes on loopback vs one process, swept over chunk size: wall ratio, network rate, overlap, and the 90%-overlap chunk next to c ≥ 2F/B.");
                bench.AddCommand<TransportBenchCommand>("transport")
                    .WithDescription("Hand-offs of 1–16 MiB between two node processes on loopback: MiB/s of the ring's wire (RingWire, LinkAck) and of Akka.Delivery, next to the kernel's byte counters.")
                    .WithExample("bench", "transport")
                    .WithExample("bench", "transport", "--sizes", "1,16", "--budget", "64", "--path", "wire");
            });
        });

        try
        {
            return app.Run(ClusterSeeds(SpellOutShortLongOptions(args)));
        }
        catch (Exception error)
        {
            // The one place an exception ends the program: one line and an exit code whatever it is (UserError), never a trace.
            return UserError.Report(error, errors);
        }
    }

    /// <summary>
    /// <c>--seed</c> of <c>run</c> is the random inputs' seed (a number); with <c>--cluster</c> an address given to <c>--seed</c>
    /// (akka.tcp://…) is the cluster's seed node, i.e. <c>--cluster-seed</c>.
    /// </summary>
    internal static string[] ClusterSeeds(string[] args)
    {
        if (!args.Contains("--cluster"))
        {
            return args;
        }

        var rewritten = (string[])args.Clone();
        for (var i = 0; i + 1 < rewritten.Length; i++)
        {
            if (rewritten[i] == "--seed" && rewritten[i + 1].StartsWith("akka.", StringComparison.Ordinal))
            {
                rewritten[i] = "--cluster-seed";
            }
        }

        return rewritten;
    }

    /// <summary>
    /// Spectre.Console.Cli refuses one-letter long options, but <c>--q --k --v</c> are what users of PyTorch expect to type:
    /// they are accepted as spellings of <c>--q-npy --k-npy --v-npy</c>.
    /// </summary>
    internal static string[] SpellOutShortLongOptions(string[] args) =>
        args.Select(arg => arg switch
        {
            "--q" or "--k" or "--v" => arg + "-npy",
            _ when arg.Length > 4 && arg[3] == '=' && arg[..3] is "--q" or "--k" or "--v" => arg[..3] + "-npy" + arg[3..],
            _ => arg,
        }).ToArray();
}
