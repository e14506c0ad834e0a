using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Switchman.Admin.Api.Auth;
using Switchman.Testing;

namespace Switchman.AdminTests;

/// <summary>The failed-authentication limit per address, on a fake clock: burst, refill, credentials known per address, the bound.</summary>
public sealed class AuthFailureLimiterTests : IDisposable
{
    private static readonly IPAddress Guesser = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Neighbour = IPAddress.Parse("192.0.2.8");

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(20000));
    private readonly FakeLogCollector _logs = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly AuthFailureLimiter _limiter;
    private readonly MetricCollector<long> _failures;

    public AuthFailureLimiterTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _failures = new MetricCollector<long>(meters, AuthFailureLimiter.MeterName, "switchman.admin.auth.failures");
        _limiter = new AuthFailureLimiter(_time, new FakeLogger<AuthFailureLimiter>(_logs), meters);
    }

    public void Dispose()
    {
        _failures.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void Fail_TenAtOnce_Allowed_TheEleventhLimited_ForOneSecond()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(_limiter.Fail(Guesser));
        }

        Assert.Equal(TimeSpan.FromSeconds(1), _limiter.Fail(Guesser));
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(600), _limiter.Fail(Guesser));
    }

    [Fact]
    public void Fail_LimitedAddress_OtherAddressUnaffected()
    {
        Exhaust(Guesser);

        Assert.NotNull(_limiter.Fail(Guesser));
        Assert.Null(_limiter.Fail(Neighbour));
        Assert.True(_limiter.Admit(Neighbour, "token ops"));
    }

    [Fact]
    public void Fail_AfterASecond_OneMore_AfterTenSeconds_TheWholeBurst()
    {
        Exhaust(Guesser);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_limiter.Fail(Guesser));
        Assert.NotNull(_limiter.Fail(Guesser));

        _time.Advance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(_limiter.Fail(Guesser));
        }
        Assert.NotNull(_limiter.Fail(Guesser));
    }

    [Fact]
    public void Admit_LimitedAddress_CredentialUsedThereBefore_Served_NewOneRefusedUntilAFailureIsBack()
    {
        Assert.True(_limiter.Admit(Guesser, "token grafana"));
        Exhaust(Guesser);

        Assert.True(_limiter.Admit(Guesser, "token grafana"));
        // Valid, but never used from here: from where the guessing goes on, it is answered like a miss.
        Assert.False(_limiter.Admit(Guesser, "token ops"));
        Assert.False(_limiter.MayTry(Guesser, "node n2"));
        Assert.Equal(TimeSpan.FromSeconds(1), _limiter.Refuse(Guesser));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_limiter.Admit(Guesser, "token ops"));
    }

    [Fact]
    public void Lockout_LoggedOnce_AgainOnlyAfterTheBurstIsWholeAgain()
    {
        Exhaust(Guesser);
        for (var i = 0; i < 20; i++)
        {
            _limiter.Fail(Guesser);
            _time.Advance(TimeSpan.FromMilliseconds(500));
        }
        Assert.Single(_logs.WithEventId(3002));
        var record = _logs.WithEventId(3002)[0];
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains("192.0.2.7", record.Message, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(10));
        Exhaust(Guesser);
        _limiter.Fail(Guesser);

        Assert.Equal(2, _logs.WithEventId(3002).Count);
    }

    [Fact]
    public void Metric_CountsEveryFailure_ByAnswer()
    {
        Exhaust(Guesser);
        _limiter.Fail(Guesser);
        _limiter.Fail(Guesser);
        _limiter.Refuse(Guesser);

        var measurements = _failures.GetMeasurementSnapshot();
        Assert.Equal(10, measurements.Where(m => (string?)m.Tags["outcome"] == "unauthorized").Sum(m => m.Value));
        Assert.Equal(3, measurements.Where(m => (string?)m.Tags["outcome"] == "limited").Sum(m => m.Value));
    }

    [Fact]
    public void Addresses_IPv6ByItsSlash64_IPv4MappedAsIPv4()
    {
        Exhaust(IPAddress.Parse("2001:db8:1:2::10"));
        Exhaust(IPAddress.Parse("::ffff:192.0.2.7"));

        Assert.NotNull(_limiter.Fail(IPAddress.Parse("2001:db8:1:2:ffff::99")));
        Assert.Null(_limiter.Fail(IPAddress.Parse("2001:db8:1:3::10")));
        Assert.NotNull(_limiter.Fail(Guesser));
        Assert.Contains("2001:db8:1:2::/64", _logs.WithEventId(3002)[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tracking_Bounded_IdleAddressesMakeRoom_BusyOnesBeyondTheBoundShareOneBucket()
    {
        // Every slot taken by an address that is limited now.
        for (var n = 1; n <= AuthFailureLimiter.MaxSources; n++)
        {
            Exhaust(LoopbackSource.Address(n));
        }
        Assert.Equal(AuthFailureLimiter.MaxSources, _limiter.TrackedSources);

        // No room: newcomers share one bucket, so a crowd of addresses is still limited together.
        for (var n = 0; n < 10; n++)
        {
            Assert.Null(_limiter.Fail(Crowd(n)));
        }
        Assert.NotNull(_limiter.Fail(Crowd(99)));
        Assert.Equal(AuthFailureLimiter.MaxSources, _limiter.TrackedSources);

        // Once they are idle (their burst whole again) they carry nothing and make room.
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(_limiter.Fail(Crowd(100)));
        Assert.Equal(1, _limiter.TrackedSources);
    }

    private void Exhaust(IPAddress address)
    {
        for (var i = 0; i < AuthFailureLimiter.Burst; i++)
        {
            Assert.Null(_limiter.Fail(address));
        }
    }

    private static IPAddress Crowd(int n) => new([198, 51, 100, (byte)n]);
}
