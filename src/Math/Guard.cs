namespace RingActors.Math;

internal static class Guard
{
    public static void Length<T>(ReadOnlySpan<T> span, long expected, string parameter)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{parameter} holds {span.Length} elements, expected {expected}", parameter);
        }
    }

    public static void Length<T>(T[] array, long expected, string parameter) => Length((ReadOnlySpan<T>)array, expected, parameter);

    public static void Positive(int value, string parameter)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{parameter} must be ≥ 1, got {value}", parameter);
        }
    }
}
