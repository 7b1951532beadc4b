// bench: timed bulk operations for bench/bulk.sh, the framework's client (the
// AzureStorageOrchestrationService query and purge API, in this process) next to the gateway
// (HttpClient with keep-alive, in this process too), so neither side pays a process start per
// call. Each subcommand prints one JSON line of figures; bench/bulk.sh makes the ratios.
//
//   bench list URL PAGES          pages of 100 with continuation, wrapping at the end: PAGES
//                                 pages by each side, in turn, after a warm-up of PAGES/4; p50
//                                 and pages/s (of the time spent in that side's pages)
//   bench scan URL TOP RANGES     the whole hub: the framework's query in pages of TOP, the
//                                 gateway's host form in pages of TOP, its fast form
//                                 (ranges=RANGES); seconds and instances seen by each
//   bench count URL               the gateway's counts route next to a count of the framework's
//                                 query (Input/Output not fetched); both per status and timed
//   bench purge-framework         PurgeInstanceHistoryAsync(MinValue, null, [Completed])
//   bench purge-gateway URL       DELETE instances?runtimeStatus=Completed, following the token
//
// URL is the gateway's base, e.g. http://127.0.0.1:7071/runtime/webhooks/durabletask; the
// hub is --hub.

using System.Diagnostics;
using System.Net;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

static class Bench
{
    const string Token = "x-ms-continuation-token";

    static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 16,
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = TimeSpan.FromMinutes(10) };

    static void Print(JObject o) => Console.Out.WriteLine(o.ToString(Newtonsoft.Json.Formatting.None));

    static double P50(List<double> ms)
    {
        ms.Sort();
        return ms.Count == 0 ? 0 : ms[ms.Count / 2];
    }

    public static async Task<int> RunAsync(Options o, AzureStorageOrchestrationService service)
    {
        string sub = o.Args.Count > 0 ? o.Args[0] : throw new UsageException("bench: missing subcommand");
        string Url() => o.Args.Count > 1 ? o.Args[1].TrimEnd('/') : throw new UsageException("bench: missing URL");
        int IntArg(int i, string what)
            => i < o.Args.Count && int.TryParse(o.Args[i], out int n) && n > 0 ? n
               : throw new UsageException($"bench {sub}: {what} must be a positive integer");
        switch (sub)
        {
            case "list": await ListAsync(o, service, Url(), IntArg(2, "PAGES")); return 0;
            case "scan": await ScanAsync(o, service, Url(), IntArg(2, "TOP"), IntArg(3, "RANGES")); return 0;
            case "count": await CountAsync(o, service, Url()); return 0;
            case "purge-framework":
            {
                var w = Stopwatch.StartNew();
                var r = await service.PurgeInstanceHistoryAsync(DateTime.MinValue, null,
                    new[] { OrchestrationStatus.Completed });
                Print(new JObject { ["instancesDeleted"] = r.InstancesDeleted, ["rowsDeleted"] = r.RowsDeleted, ["ms"] = w.Elapsed.TotalMilliseconds });
                return 0;
            }
            case "purge-gateway": await PurgeGatewayAsync(o, Url()); return 0;
            default: throw new UsageException($"bench: unknown subcommand '{sub}'");
        }
    }

    static string Q(Options o, string rest) => $"taskHub={Uri.EscapeDataString(o.Hub)}{rest}";

    /// <summary>One GET; the body's items are counted, not parsed into objects.</summary>
    static async Task<(int Items, string? Next)> GetPageAsync(string url, string? token, HashSet<string>? ids = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (!string.IsNullOrEmpty(token))
            req.Headers.TryAddWithoutValidation(Token, token);
        using var resp = await Http.SendAsync(req);
        string body = await resp.Content.ReadAsStringAsync();
        if (resp.StatusCode != HttpStatusCode.OK)
            throw new Exception($"GET {url} answered {(int)resp.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        string? next = resp.Headers.TryGetValues(Token, out var v) ? v.FirstOrDefault() : null;
        // Parsed, as a client must to use the items (System.Text.Json, as the Azure SDK under
        // the framework parses the service's answers).
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        if (ids is not null)
            foreach (var it in doc.RootElement.EnumerateArray())
                ids.Add(it.GetProperty("instanceId").GetString()!);
        return (doc.RootElement.GetArrayLength(), string.IsNullOrEmpty(next) ? null : next);
    }

    static OrchestrationInstanceStatusQueryCondition AllCondition(bool io) => new() { FetchInput = io, FetchOutput = io };

    static async Task ListAsync(Options o, AzureStorageOrchestrationService service, string url, int pages)
    {
        // The framework: the query the extension's list issues, FetchInput and FetchOutput as
        // for showInput=true, pages of 100.
        var condition = AllCondition(true);
        string? ft = null;
        async Task<double> FrameworkPage()
        {
            var w = Stopwatch.StartNew();
            var page = await service.GetOrchestrationStateAsync(condition, 100, ft, CancellationToken.None);
            double ms = w.Elapsed.TotalMilliseconds;
            if (page.OrchestrationState.Count() == 0 && string.IsNullOrEmpty(page.ContinuationToken) && ft is null)
                throw new Exception("the framework's query found no instance");
            ft = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
            return ms;
        }
        string? gt = null;
        string listUrl = $"{url}/instances?{Q(o, "&top=100")}";
        async Task<double> GatewayPage()
        {
            var w = Stopwatch.StartNew();
            var (n, next) = await GetPageAsync(listUrl, gt);
            double ms = w.Elapsed.TotalMilliseconds;
            gt = next;
            return ms;
        }
        // Warm-up of both, then the two sides page by page in turn, so a burst of load from
        // elsewhere on the machine falls on both alike.
        for (int i = 0; i < Math.Max(10, pages / 4); i++) { await FrameworkPage(); await GatewayPage(); }
        var fl = new List<double>(pages);
        var gl = new List<double>(pages);
        for (int i = 0; i < pages; i++)
        {
            fl.Add(await FrameworkPage());
            gl.Add(await GatewayPage());
        }
        Print(new JObject
        {
            ["framework"] = new JObject { ["pagesPerSec"] = pages / (fl.Sum() / 1000), ["p50Ms"] = P50(fl) },
            ["gateway"] = new JObject { ["pagesPerSec"] = pages / (gl.Sum() / 1000), ["p50Ms"] = P50(gl) },
        });
    }

    static async Task ScanAsync(Options o, AzureStorageOrchestrationService service, string url, int top, int ranges)
    {
        var result = new JObject();
        // The framework's query: every instance, pages of TOP, Input and Output fetched.
        {
            var condition = AllCondition(true);
            var w = Stopwatch.StartNew();
            int n = 0;
            string? t = null;
            do
            {
                var page = await service.GetOrchestrationStateAsync(condition, top, t, CancellationToken.None);
                n += page.OrchestrationState.Count();
                t = page.ContinuationToken;
            } while (!string.IsNullOrEmpty(t));
            result["framework"] = new JObject { ["secs"] = w.Elapsed.TotalSeconds, ["instances"] = n };
        }
        foreach (var (name, query) in new[] {
                     ("gatewayHostForm", $"&top={top}"),
                     ("gatewayFastForm", $"&top={top}&ranges={ranges}") })
        {
            var w = Stopwatch.StartNew();
            int n = 0, requests = 0;
            string? t = null;
            var ids = new HashSet<string>();
            do
            {
                var (items, next) = await GetPageAsync($"{url}/instances?{Q(o, query)}", t, ids);
                n += items;
                requests++;
                t = next;
            } while (t is not null);
            result[name] = new JObject { ["secs"] = w.Elapsed.TotalSeconds, ["instances"] = n, ["distinct"] = ids.Count, ["requests"] = requests };
        }
        Print(result);
    }

    static async Task CountAsync(Options o, AzureStorageOrchestrationService service, string url)
    {
        var result = new JObject();
        var w = Stopwatch.StartNew();
        using (var resp = await Http.GetAsync($"{url}/counts?{Q(o, "")}"))
        {
            string body = await resp.Content.ReadAsStringAsync();
            if (resp.StatusCode != HttpStatusCode.OK)
                throw new Exception($"GET counts answered {(int)resp.StatusCode}: {body}");
            result["gateway"] = new JObject { ["secs"] = w.Elapsed.TotalSeconds, ["answer"] = JObject.Parse(body) };
        }
        // The framework's own query, no Input or Output, pages of 1000, counted here.
        w.Restart();
        var condition = AllCondition(false);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        string? t = null;
        do
        {
            var page = await service.GetOrchestrationStateAsync(condition, 1000, t, CancellationToken.None);
            foreach (var s in page.OrchestrationState)
            {
                string k = s.OrchestrationStatus.ToString();
                counts[k] = counts.GetValueOrDefault(k) + 1;
                total++;
            }
            t = page.ContinuationToken;
        } while (!string.IsNullOrEmpty(t));
        var fc = new JObject();
        foreach (var (k, v) in counts)
            fc[k] = v;
        result["framework"] = new JObject { ["secs"] = w.Elapsed.TotalSeconds, ["total"] = total, ["runtimeStatus"] = fc };
        // Equal when the totals match and every status the framework saw has the same count.
        var g = (JObject)result["gateway"]!["answer"]!;
        bool equal = (long)g["total"]! == total &&
                     counts.All(kv => (long?)g["runtimeStatus"]?[kv.Key] == kv.Value) &&
                     ((JObject?)g["runtimeStatus"])?.Properties().All(p => (long)p.Value == 0 || counts.ContainsKey(p.Name)) == true;
        result["equal"] = equal;
        Print(result);
    }

    static async Task PurgeGatewayAsync(Options o, string url)
    {
        var w = Stopwatch.StartNew();
        long deleted = 0;
        int requests = 0;
        string? t = null;
        string purgeUrl = $"{url}/instances?{Q(o, "&createdTimeFrom=0001-01-01T00:00:00Z&runtimeStatus=Completed")}";
        while (true)
        {
            using var req = new HttpRequestMessage(HttpMethod.Delete, purgeUrl);
            if (t is not null)
                req.Headers.TryAddWithoutValidation(Token, t);
            using var resp = await Http.SendAsync(req);
            string body = await resp.Content.ReadAsStringAsync();
            requests++;
            if (resp.StatusCode == HttpStatusCode.NotFound)
                break;
            if (resp.StatusCode != HttpStatusCode.OK)
                throw new Exception($"DELETE instances answered {(int)resp.StatusCode}: {body}");
            deleted += (long)JObject.Parse(body)["instancesDeleted"]!;
            t = resp.Headers.TryGetValues(Token, out var v) ? v.FirstOrDefault() : null;
            if (string.IsNullOrEmpty(t))
                break;
        }
        Print(new JObject { ["instancesDeleted"] = deleted, ["requests"] = requests, ["ms"] = w.Elapsed.TotalMilliseconds });
    }
}
