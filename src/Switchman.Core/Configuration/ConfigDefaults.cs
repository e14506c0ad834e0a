namespace Switchman.Core.Configuration;

/// <summary>
/// One instance of each configuration record at its defaults (required names left empty): the binder falls back to
/// these, and the writer leaves out values equal to them, so both agree on what "default" means.
/// </summary>
internal static class ConfigDefaults
{
    public static readonly SwitchmanConfig DefaultConfig = new();
    public static readonly AdminConfig DefaultAdmin = new();
    public static readonly FrontendConfig DefaultFrontend = new() { Name = "", Listen = "" };
    public static readonly FrontendTimeouts DefaultFrontendTimeouts = new();
    public static readonly RouteConfig DefaultRoute = new() { Backend = "" };
    public static readonly BackendConfig DefaultBackend = new() { Name = "" };
    public static readonly ServerConfig DefaultServer = new() { Name = "", Address = "" };
    public static readonly HealthCheckConfig DefaultHealth = new();
    public static readonly PassiveHealthConfig DefaultPassive = new();
    public static readonly RetryConfig DefaultRetry = new();
    public static readonly BackendTimeouts DefaultBackendTimeouts = new();
    public static readonly StickyConfig DefaultSticky = new();
    public static readonly ServiceConfig DefaultService = new() { Name = "" };
    public static readonly ServiceMonitorConfig DefaultMonitor = new();
    public static readonly ClusterConfig DefaultCluster = new() { NodeId = "", Listen = "", DataDir = "" };
}
