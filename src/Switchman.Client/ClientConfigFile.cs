using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchman.Client;

/// <summary>The client configuration file could not be used; the message names the file and, where known, the line.</summary>
public sealed class ClientConfigException : Exception
{
    public ClientConfigException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The client configuration file, e.g. <c>~/.config/switchman/client.yaml</c>:
/// <code>
/// endpoint: http://10.0.0.5:9090
/// token_file: /etc/switchman/admin.token   # or token: ..., but a file keeps the token out of this one
/// </code>
/// A relative <c>token_file</c> is relative to the configuration file's folder.
/// </summary>
public sealed record ClientConfigFile(string? Endpoint, string? Token)
{
    private static readonly string[] Keys = ["endpoint", "token", "token_file"];

    /// <exception cref="ClientConfigException">The file is missing, is not the YAML described above, or its token file cannot be read.</exception>
    public static ClientConfigFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClientConfigException($"{path}: cannot read the client configuration: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <param name="text">The YAML.</param>
    /// <param name="path">The file it came from: named in errors, and the base of a relative token_file.</param>
    internal static ClientConfigFile Parse(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ClientConfigException($"{path}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0)
        {
            return new ClientConfigFile(null, null);
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Error(path, stream.Documents[0].RootNode, "expected a map with endpoint, token or token_file");
        }

        var values = new Dictionary<string, (string Value, YamlNode Node)>();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!Keys.Contains(key))
            {
                throw Error(path, keyNode, $"unknown key '{key}': expected {string.Join(", ", Keys)}");
            }
            if (valueNode is not YamlScalarNode { Value: { Length: > 0 } value })
            {
                throw Error(path, valueNode, $"{key}: expected a string");
            }
            values[key] = (value, valueNode);
        }

        if (values.ContainsKey("token") && values.TryGetValue("token_file", out var both))
        {
            throw Error(path, both.Node, "token and token_file: give one or the other");
        }
        var token = values.TryGetValue("token", out var inline) ? inline.Value : null;
        if (values.TryGetValue("token_file", out var tokenFile))
        {
            token = ReadTokenFile(path, tokenFile.Value, tokenFile.Node);
        }
        return new ClientConfigFile(values.TryGetValue("endpoint", out var endpoint) ? endpoint.Value : null, token);
    }

    private static string ReadTokenFile(string configPath, string tokenPath, YamlNode node)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        var fullPath = Path.Combine(directory, tokenPath);
        string token;
        try
        {
            token = File.ReadAllText(fullPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(configPath, node, $"token_file: cannot read {fullPath}: {e.Message}", e);
        }
        return token.Length > 0 ? token : throw Error(configPath, node, $"token_file: {fullPath} is empty");
    }

    private static ClientConfigException Error(string path, YamlNode node, string message, Exception? inner = null) =>
        new($"{path}:{node.Start.Line}:{node.Start.Column}: {message}", inner);
}
