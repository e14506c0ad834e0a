using Microsoft.Playwright;

namespace Switchman.DashboardTests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>) driven by Playwright, with no browser download: started once for the
/// test class. Fails, saying what to install, when Chromium is missing — CI installs it, and a dashboard test that
/// cannot run must not pass.
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>
    /// How long an expectation waits for the page to show something: a health check's fall at the default interval plus
    /// a refresh, with room for a busy machine. Expectations return as soon as they hold.
    /// </summary>
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(30);

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            var ci = Environment.GetEnvironmentVariable("CI") is "true" or "1" ? " (CI=true)" : "";
            throw new InvalidOperationException(
                $"The dashboard tests need Debian's Chromium at {ExecutablePath}{ci}: apt-get install chromium (.ci/run does).");
        }
        Assertions.SetDefaultExpectTimeout((float)ExpectTimeout.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Without these, Chromium tries Google's services at start; this machine's network refuses them.
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh page in its own context (its own session storage), 1400 px wide so every column shows.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}
