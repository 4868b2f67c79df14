using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>Turns the errors a user can cause into one line on stderr and exit code 2 (a <see cref="CommandFailedException"/>: its own code).</summary>
public static class UserError
{
    public const int ExitCode = 2;

    public static bool IsUserError(Exception error) =>
        error is ArgumentException or CommandAppException or InvalidDataException or FileNotFoundException
            or DirectoryNotFoundException or UnauthorizedAccessException or IOException or FormatException or UserInputException or CommandFailedException;

    public static int Report(Exception error, TextWriter errors)
    {
        var message = error switch
        {
            // ArgumentException appends " (Parameter 'x')": the message already names what was wrong.
            ArgumentException argument => StripParameterSuffix(argument.Message),
            _ => error.Message,
        };
        errors.WriteLine($"ringactors: error: {OneLine(message)}");
        return error is CommandFailedException failed ? failed.ExitCode : ExitCode;
    }

    private static string StripParameterSuffix(string message)
    {
        var index = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return index > 0 ? message[..index] : message;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A mistake in what the user asked for, reported in one line.</summary>
public sealed class UserInputException(string message) : Exception(message);

/// <summary>A command that started and then failed for a reason outside its input (no seed answered): one line, its own exit code.</summary>
public sealed class CommandFailedException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
