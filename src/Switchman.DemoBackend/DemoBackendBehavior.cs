namespace Switchman.DemoBackend;

/// <summary>
/// The part of a demo backend's behaviour that can change while it runs. Immutable: a change swaps the whole value,
/// so a request always sees one consistent set of settings.
/// </summary>
/// <param name="Delay">Delay added to every application request.</param>
/// <param name="FailStatus">When set, every application request is answered with this status.</param>
/// <param name="HealthFailing">When true, /healthz answers 503.</param>
public sealed record DemoBackendBehavior(TimeSpan Delay, int? FailStatus, bool HealthFailing)
{
    public static DemoBackendBehavior From(DemoBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DemoBackendBehavior(options.Delay, options.FailStatus, options.HealthFailing);
    }
}
