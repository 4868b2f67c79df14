using Spectre.Console;

namespace RingActors.Host.Tests;

/// <summary>Runs the <c>ringactors</c> command line in-process and captures what it prints.</summary>
internal static class CommandLine
{
    public static (int ExitCode, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 240;
        var exitCode = Program.Run(args, console, errors);
        return (exitCode, output.ToString(), errors.ToString());
    }
}
