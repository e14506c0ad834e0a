using System.CommandLine;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>How a command prints its result: tables and sentences for people, or the API's JSON for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>The options every command that talks to a node's admin API takes: where the node is, the token, the output form.</summary>
internal sealed class AdminOptions
{
    public Option<string?> Endpoint { get; } = new("--endpoint", "-e")
    {
        Description = $"The node's admin API, e.g. http://127.0.0.1:9090 or host:port. Default: ${ClientSettingsSources.EndpointVariable}, " +
            "then the client configuration file, then http://127.0.0.1:9090.",
        HelpName = "URL",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Bearer token. Default: ${ClientSettingsSources.TokenVariable}, then the client configuration file. " +
            "Other users can see command lines: prefer the variable or a token_file.",
        HelpName = "TOKEN",
    };

    public Option<string?> ClientConfig { get; } = new("--client-config")
    {
        Description = "Client configuration file (YAML with endpoint and token or token_file). " +
            "Default: ~/.config/switchman/client.yaml when it exists.",
        HelpName = "FILE",
    };

    // A string rather than the enum, so help and errors show the lower-case words people type.
    private readonly Option<string> _output = CreateOutputOption();

    public void AddTo(Command command)
    {
        command.Options.Add(Endpoint);
        command.Options.Add(Token);
        command.Options.Add(ClientConfig);
        command.Options.Add(_output);
    }

    public OutputFormat Output(ParseResult parseResult) =>
        parseResult.GetValue(_output) == "json" ? OutputFormat.Json : OutputFormat.Table;

    /// <summary>The endpoint and token, each from the first place that has it: flag, environment, client configuration file, default.</summary>
    /// <exception cref="ClientConfigException">They cannot be worked out (a malformed endpoint, a missing or broken file).</exception>
    public AdminClientSettings ResolveSettings(ParseResult parseResult) => AdminClientSettings.Resolve(new ClientSettingsSources
    {
        Endpoint = parseResult.GetValue(Endpoint),
        Token = parseResult.GetValue(Token),
        ClientConfigFile = parseResult.GetValue(ClientConfig),
    });

    private static Option<string> CreateOutputOption()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "table (for people) or json (the API's JSON, for scripts).",
            DefaultValueFactory = _ => "table",
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }
}
