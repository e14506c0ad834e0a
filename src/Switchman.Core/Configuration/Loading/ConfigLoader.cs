using Switchman.Core.Configuration.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchman.Core.Configuration.Loading;

/// <summary>
/// Loads a Switchman YAML configuration: parse, bind to records, validate. Every error is collected with its file,
/// line, column and field path; a configuration is returned only when there are none.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Loads a file. Errors name the file as <paramref name="path"/> was written; relative paths inside the
    /// configuration (TLS certificates and keys, the access log) are resolved against the file's directory.
    /// <paramref name="checkHost"/> also checks what only this node can (<see cref="ServiceHostChecks"/>: services' programs,
    /// directories, users), as <c>switchman check</c> does.</summary>
    public static ConfigLoadResult LoadFile(string path, bool checkHost = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        string yaml;
        try
        {
            yaml = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new ConfigLoadResult(null, [new ConfigError(path, 0, 0, "", $"cannot read the file: {e.Message}")]);
        }
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        return Read(yaml, path, baseDirectory, validate: true, checkHost);
    }

    /// <summary>Loads YAML text. <paramref name="sourceName"/> names the source in errors; relative paths inside the
    /// configuration are resolved against <paramref name="baseDirectory"/>.</summary>
    public static ConfigLoadResult LoadYaml(string yaml, string sourceName, string baseDirectory) =>
        Read(yaml, sourceName, baseDirectory, validate: true);

    /// <summary>
    /// Reads YAML text into a configuration without validating it: errors are only those of the text itself (syntax,
    /// unknown fields, values of the wrong type). For a document that is validated elsewhere, once it is complete, such
    /// as the shared part of a cluster's configuration, which each node validates with its own node-local sections.
    /// </summary>
    public static ConfigLoadResult ParseYaml(string yaml, string sourceName, string baseDirectory) =>
        Read(yaml, sourceName, baseDirectory, validate: false);

    private static ConfigLoadResult Read(string yaml, string sourceName, string baseDirectory, bool validate, bool checkHost = false)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentException.ThrowIfNullOrEmpty(baseDirectory);

        var errors = new ConfigErrorCollector(new ConfigSourceMap(sourceName));
        if (Parse(yaml, errors) is not { } stream)
        {
            return new ConfigLoadResult(null, errors.ToList());
        }
        var root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        if (root is not null)
        {
            errors.SourceMap.Remember("", (int)root.Start.Line, (int)root.Start.Column);
        }
        if (stream.Documents.Count > 1)
        {
            var extra = stream.Documents[1].RootNode.Start;
            errors.AddAt((int)extra.Line, (int)extra.Column, "", "a configuration is one YAML document; remove the '---' and what follows, or merge it into the first");
        }

        var binder = new ConfigBinder(new YamlValueReader(errors), Path.GetFullPath(baseDirectory));
        var config = binder.Bind(root);
        if (validate)
        {
            ConfigValidator.Validate(config, errors);
            if (checkHost && errors.Count == 0)
            {
                ServiceHostChecks.Check(config, errors);
            }
        }
        return new ConfigLoadResult(config, errors.ToList());
    }

    private static YamlStream? Parse(string yaml, ConfigErrorCollector errors)
    {
        var stream = new YamlStream();
        var parser = new DuplicateKeyFilter(new Parser(new StringReader(yaml)), errors);
        try
        {
            stream.Load(parser);
            return stream;
        }
        catch (YamlException e)
        {
            // A syntax error ends parsing: what follows it cannot be read reliably, so this is the one error we stop at.
            errors.AddAt((int)e.Start.Line, (int)e.Start.Column, "", e.Message);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet 16.3 throws these, with no position, on some malformed input (e.g. "a:\n : b"); bad YAML must
            // still get a located error, so point just after the last part that did parse.
            var at = parser.LastPosition;
            errors.AddAt((int)at.Line, (int)at.Column, "", "malformed YAML after this point (check the indentation and any stray ':', '{' or '[' on the next lines)");
            return null;
        }
    }
}
