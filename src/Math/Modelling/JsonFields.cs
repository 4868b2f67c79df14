using System.Text.Json;

namespace RingActors.Math.Modelling;

/// <summary>
/// Reading the flat JSON objects profiles are written in (device and cluster profiles): an object of known fields, each a
/// number or a string; every failure an <see cref="ArgumentException"/> naming the source and the field.
/// </summary>
internal static class JsonFields
{
    /// <summary>Parses <paramref name="json"/> as one object holding only <paramref name="knownFields"/>; <paramref name="what"/> names it in errors ("a profile").</summary>
    public static JsonDocument Parse(string json, string source, string what, IReadOnlyCollection<string> knownFields)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{source}: not valid JSON ({e.Message.Split('\n')[0].Trim()})", nameof(json));
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            var kind = root.ValueKind;
            document.Dispose();
            throw new ArgumentException($"{source}: {what} must be a JSON object, got {kind}", nameof(json));
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!knownFields.Contains(property.Name, StringComparer.Ordinal))
            {
                var unknown = new ArgumentException($"{source}: unknown field '{property.Name}', expected {string.Join(", ", knownFields)}", nameof(json));
                document.Dispose();
                throw unknown;
            }
        }

        return document;
    }

    public static ArgumentException Missing(string field, string source) => new($"{source}: required field '{field}' is missing", field);

    public static double? Number(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
            ? number
            : throw new ArgumentException($"{source}: field '{field}' must be a number, got {value.GetRawText()}", field);
    }

    public static string? Text(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new ArgumentException($"{source}: field '{field}' must be a string, got {value.GetRawText()}", field);
    }
}
