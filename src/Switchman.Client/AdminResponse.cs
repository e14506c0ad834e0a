namespace Switchman.Client;

/// <summary>A successful answer: the typed value and the JSON body it was read from (what <c>--output json</c> prints).</summary>
public sealed record AdminResponse<T>(T Value, string Json);
