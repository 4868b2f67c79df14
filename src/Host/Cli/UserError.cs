using RingActors.Actors;
using Spectre.Console.Cli;

namespace RingActors.Host.Cli;

/// <summary>
/// Turns every exception that leaves a command into one line on stderr and an exit code, never a stack trace: the errors a
/// user can cause exit 2 (a <see cref="CommandFailedException"/> its own code), a failed ring job (deadline, refused block,
/// lost node) exits 1, and anything else — a defect — exits 1 with its type and message.
/// </summary>
public static class UserError
{
    public const int ExitCode = 2;

    /// <summary>Exit code of a job that started and failed, and of an unexpected exception.</summary>
    public const int FailedExitCode = 1;

    public static bool IsUserError(Exception error) =>
        error is ArgumentException or CommandAppException or InvalidDataException or FileNotFoundException
            or DirectoryNotFoundException or UnauthorizedAccessException or IOException or FormatException or UserInputException or CommandFailedException;

    /// <summary>Writes <c>ringactors: error: …</c> for <paramref name="error"/> and returns the exit code it calls for.</summary>
    public static int Report(Exception error, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(errors);

        // A task's failure arrives wrapped once (Task.Wait, WhenAll): the inner exception is what happened.
        if (error is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            error = aggregate.InnerExceptions[0];
        }

        var (message, code) = error switch
        {
            CommandFailedException failed => (failed.Message, failed.ExitCode),
            _ when IsUserError(error) => (error is ArgumentException argument ? WithoutParameter(argument) : error.Message, ExitCode),

            // The reason already says which device and why ("ring job … failed: not finished after …").
            RingJobException failed => (failed.Message, FailedExitCode),
            OperationCanceledException => ("cancelled", FailedExitCode),

            // Not the user's doing: the type says where to look, the trace would only bury the line.
            _ => ($"{error.GetType().Name}: {error.Message}", FailedExitCode),
        };
        errors.WriteLine($"ringactors: error: {OneLine(message)}");
        return code;
    }

    /// <summary>The message without the " (Parameter 'x')" that ArgumentException appends: the message already names what was wrong.</summary>
    public static string WithoutParameter(ArgumentException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var index = error.Message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return index > 0 ? error.Message[..index] : error.Message;
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
