using System.Text.RegularExpressions;
using Spectre.Console;

namespace RingActors.Host.Tests;

/// <summary>Runs the <c>ringactors</c> command line in-process and captures what it prints.</summary>
internal static partial class CommandLine
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

    /// <summary>
    /// The options a help text declares: the long option each line of its OPTIONS list starts with, as whole words, so that
    /// "--profile" is not found inside "--profile-file" nor "--causal" inside another option's description.
    /// </summary>
    public static ISet<string> DeclaredOptions(string help) =>
        help.Split('\n').Select(line => OptionLine().Match(line)).Where(match => match.Success).Select(match => match.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^\s*(?:-\w,\s*)?(--[a-z0-9][a-z0-9-]*)(?![\w-])")]
    private static partial Regex OptionLine();
}
