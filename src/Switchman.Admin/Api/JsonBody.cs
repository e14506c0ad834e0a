using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Switchman.Admin.Api;

/// <summary>
/// Reads a small JSON object body by hand rather than through model binding, so that a malformed body gets the API's
/// own error form (400) and a well-formed one with wrong values gets a 422 that names each field.
/// </summary>
internal sealed class JsonBody
{
    private readonly JsonElement _root;
    private readonly List<ApiValidationError> _errors = [];

    private JsonBody(JsonElement root) => _root = root;

    public IReadOnlyList<ApiValidationError> Errors => _errors;

    /// <summary>The body, or the 400 to answer with when it is not a JSON object.</summary>
    public static async Task<(JsonBody? Body, IResult? Error)> ReadAsync(HttpRequest request, string example, CancellationToken cancellationToken)
    {
        var (bytes, tooLarge) = await RequestBody.ReadAsync(request, AdminListenerLimits.MaxJsonBodyBytes, "the body", cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, tooLarge);
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiResults.Error(StatusCodes.Status400BadRequest, $"the body must be a JSON object such as {example}"));
            }
            return (new JsonBody(document.RootElement.Clone()), null);
        }
        catch (JsonException e)
        {
            return (null, ApiResults.Error(StatusCodes.Status400BadRequest, $"the body is not valid JSON ({e.Message}); send a JSON object such as {example}"));
        }
    }

    public string? String(string name, bool required)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(name, "is required");
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            Fail(name, "must be a string");
            return null;
        }
        return value.GetString();
    }

    public int? Int(string name, bool required, int min, int max)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(name, $"is required: a whole number from {min} to {max}");
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            Fail(name, $"must be a whole number from {min} to {max}");
            return null;
        }
        return number;
    }

    public bool? Bool(string name)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Fail(name, "must be true or false");
            return null;
        }
        return value.GetBoolean();
    }

    /// <summary>Reports every field that is not one of <paramref name="known"/>, so a typo is not silently ignored.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var property in _root.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                Fail(property.Name, $"is not a known field; known fields: {string.Join(", ", known)}");
            }
        }
    }

    public void Fail(string field, string message) => _errors.Add(new ApiValidationError(null, field, 0, 0, $"{field} {message}"));

    /// <summary>422 listing every field error.</summary>
    public IResult Invalid() => ApiResults.Error(StatusCodes.Status422UnprocessableEntity,
        new ApiError(string.Join("; ", _errors.Select(e => e.Message))) { Errors = _errors });
}
