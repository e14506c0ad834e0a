namespace Switchman.Core.Configuration.Loading;

/// <summary>The outcome of loading a configuration: the configuration when it is valid, else every error found.</summary>
public sealed class ConfigLoadResult
{
    internal ConfigLoadResult(SwitchmanConfig? config, IReadOnlyList<ConfigError> errors)
    {
        Config = errors.Count == 0 ? config : null;
        Errors = errors;
    }

    /// <summary>The loaded configuration; null when <see cref="Errors"/> is not empty (never half a configuration).</summary>
    public SwitchmanConfig? Config { get; }

    /// <summary>Every problem found, in file order.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    public bool IsValid => Errors.Count == 0;
}
