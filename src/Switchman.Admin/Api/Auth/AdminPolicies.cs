namespace Switchman.Admin.Api.Auth;

/// <summary>The two authorization policies of the admin API; every endpoint names one of them where it is mapped.</summary>
public static class AdminPolicies
{
    /// <summary>Reading status, configuration, events and the OpenAPI document: a read or an admin token.</summary>
    public const string Read = "read";

    /// <summary>Changing anything: an admin token.</summary>
    public const string Admin = "admin";
}
