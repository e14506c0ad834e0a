using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Core.Tests.Configuration;

/// <summary>Loads YAML from test code and asserts on the errors it produces.</summary>
internal static class TestConfigs
{
    public const string SourceName = "test.yaml";

    public static ConfigLoadResult Load(string yaml, string? baseDirectory = null) =>
        ConfigLoader.LoadYaml(yaml, SourceName, baseDirectory ?? Path.GetTempPath());

    public static SwitchmanConfig LoadValid(string yaml, string? baseDirectory = null)
    {
        var result = Load(yaml, baseDirectory);
        Assert.True(result.IsValid, "expected no errors, got:\n" + string.Join("\n", result.Errors));
        return result.Config!;
    }

    /// <summary>Asserts the load produced exactly one error, at this position and path, with this text in its message.</summary>
    public static ConfigError SingleError(string yaml, int line, int column, string path, string messageFragment)
    {
        var result = Load(yaml);
        var error = Assert.Single(result.Errors);
        Assert.Null(result.Config);
        Assert.Equal((line, column, path), (error.Line, error.Column, error.Path));
        Assert.Contains(messageFragment, error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>Asserts that exactly one error was reported for this path, with this text in its message.</summary>
    public static ConfigError SingleErrorAt(string yaml, string path, string messageFragment)
    {
        var result = Load(yaml);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(messageFragment, error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>A valid configuration for tests to break one field of: frontend web → backend api (servers a, b).</summary>
    public static string Minimal(string backendExtra = "", string frontendExtra = "") => $"""
        frontends:
          web:
            listen: 127.0.0.1:8080
            default_backend: api
        {Indent(frontendExtra, 4)}
        backends:
          api:
            servers:
              - name: a
                address: 127.0.0.1:9001
              - name: b
                address: 127.0.0.1:9002
        {Indent(backendExtra, 4)}
        """;

    /// <summary><see cref="Minimal"/> with one more server, first in the list (servers[0], line 9), as a YAML flow map.</summary>
    public static string MinimalWithServer(string serverFlowMap) =>
        Minimal().Replace("backends:\n  api:\n    servers:\n", $"backends:\n  api:\n    servers:\n      - {serverFlowMap}\n", StringComparison.Ordinal);

    private static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n').Select(line => line.Length == 0 ? line : new string(' ', spaces) + line));
}
