using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>Turns the errors a user can cause into one line on stderr and exit code 2.</summary>
public static class UserError
{
    public const int ExitCode = 2;

    public static bool IsUserError(Exception error) =>
        error is ArgumentException or CommandAppException or InvalidDataException or FileNotFoundException
            or DirectoryNotFoundException or UnauthorizedAccessException or IOException or FormatException or UserInputException;

    public static int Report(Exception error, TextWriter errors)
    {
        var message = error switch
        {
            // ArgumentException appends " (Parameter 'x')": the message already names what was wrong.
            ArgumentException argument => StripParameterSuffix(argument.Message),
            _ => error.Message,
        };
        errors.WriteLine($"ringactors: error: {OneLine(message)}");
        return ExitCode;
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
