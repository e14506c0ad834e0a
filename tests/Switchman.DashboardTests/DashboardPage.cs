using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Switchman.DashboardTests;

/// <summary>The dashboard as a user meets it: open it, sign in, find a server's row, click, confirm.</summary>
public sealed class DashboardPage(IPage page, string adminUrl)
{
    public IPage Page => page;

    /// <summary>Opens the admin listener's root, as a user typing its address would, and signs in with <paramref name="token"/>.</summary>
    public async Task SignInAsync(string token)
    {
        await page.GotoAsync(adminUrl);
        await page.FillAsync("#token", token);
        await page.ClickAsync("#sign-in-button");
    }

    /// <summary>Signs in and waits until the backends are on the page.</summary>
    public async Task SignInAndWaitAsync(string token)
    {
        await SignInAsync(token);
        await Expect(page.Locator("#backends .backend").First).ToBeVisibleAsync();
    }

    public ILocator ServerRow(string backend, string server) => page.Locator($"tr[data-server='{backend}/{server}']");

    public ILocator Health(string backend, string server) => ServerRow(backend, server).Locator("td.health .badge").First;

    public ILocator State(string backend, string server) => ServerRow(backend, server).Locator("td.state");

    public ILocator Action(string backend, string server, string action) => ServerRow(backend, server).Locator($"button[data-action='{action}']");

    public ILocator Dialog => page.Locator("dialog#confirm");

    /// <summary>Saves a full-page screenshot where <c>SWITCHMAN_SCREENSHOTS</c> says (the docs keep some), else beside the tests.</summary>
    public async Task ScreenshotAsync(string name)
    {
        var directory = Environment.GetEnvironmentVariable("SWITCHMAN_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name), FullPage = true });
    }
}
