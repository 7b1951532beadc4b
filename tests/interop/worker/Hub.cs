// Options and the task-hub objects built from them.

using Azure.Data.Tables;
using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace InteropWorker;

sealed class UsageException(string message) : Exception(message);

sealed class Options
{
    public string Command = "";
    public List<string> Args = new();
    public string ConnectionString = "";
    public string Hub = "DurableFunctionsHub";
    public int? Partitions;
    public string? WorkerId;
    public int PollMs = 500;
    public LogLevel LogLevel = LogLevel.Warning;
    public bool IgnoreStdin;
    public bool Base64Queues;

    static readonly HashSet<string> Flags = new() { "ignore-stdin", "base64-queues", "help" };

    public static Options Parse(string[] argv)
    {
        var o = new Options();
        var named = new Dictionary<string, string>();
        for (int i = 0; i < argv.Length; i++)
        {
            string a = argv[i];
            if (a == "--")
            {
                o.Args.AddRange(argv[(i + 1)..]);
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string key = a[2..], value;
                int eq = key.IndexOf('=');
                if (eq >= 0) { value = key[(eq + 1)..]; key = key[..eq]; }
                else if (Flags.Contains(key)) value = "true";
                else if (i + 1 < argv.Length) value = argv[++i];
                else throw new UsageException($"option --{key} needs a value");
                named[key] = value;
            }
            else
            {
                o.Args.Add(a);
            }
        }
        if (named.ContainsKey("help") || o.Args.Count == 0)
            throw new UsageException("");
        o.Command = o.Args[0];
        o.Args.RemoveAt(0);

        foreach (var (key, value) in named)
        {
            switch (key)
            {
                case "connection-string": o.ConnectionString = value; break;
                case "hub": o.Hub = value; break;
                case "partitions": o.Partitions = Int(key, value, 1, 16); break;
                case "worker-id": o.WorkerId = value; break;
                case "poll-ms": o.PollMs = Int(key, value, 10, 60000); break;
                case "log-level":
                    if (!Enum.TryParse(value, true, out o.LogLevel))
                        throw new UsageException($"--log-level: unknown level '{value}'");
                    break;
                case "ignore-stdin": o.IgnoreStdin = true; break;
                case "base64-queues": o.Base64Queues = true; break;
                default: throw new UsageException($"unknown option --{key}");
            }
        }
        if (o.ConnectionString == "")
            o.ConnectionString = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") ?? "";
        if (o.ConnectionString == "")
            throw new UsageException("no connection string: set AZURITE_CONNECTION_STRING or pass --connection-string");
        if (o.Hub == "")
            throw new UsageException("--hub must not be empty");
        return o;
    }

    static int Int(string key, string value, int min, int max)
    {
        if (!int.TryParse(value, out int n) || n < min || n > max)
            throw new UsageException($"--{key}: expected an integer in {min}..{max}, got '{value}'");
        return n;
    }

    /// <summary>Stable by default (same hub → same id), so a restarted worker re-takes its own leases at once.</summary>
    public string EffectiveWorkerId => WorkerId ?? $"interop-worker-{Hub}";
}

static class Hub
{
    public static ILoggerFactory Logging(LogLevel level) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; })
        // Everything on stderr: stdout carries only "worker ready" and client results.
        .AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace));

    public static AzureStorageOrchestrationService Service(Options o, int partitions, ILoggerFactory loggers)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(o.ConnectionString),
            TaskHubName = o.Hub,
            PartitionCount = partitions,
            WorkerId = o.EffectiveWorkerId,
            // Messages written by another process (the gateway) do not reset the poll back-off;
            // keep its cap short so they are picked up within about half a second.
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(o.PollMs),
            UseAppLease = false,
            // Shorter than the defaults (30 s / 10 s / 10 s) so a killed worker's leases
            // expire quickly if a test starts another worker id on the same hub.
            LeaseInterval = TimeSpan.FromSeconds(10),
            LeaseRenewInterval = TimeSpan.FromSeconds(3),
            LeaseAcquireInterval = TimeSpan.FromSeconds(3),
            PartitionTableOperationTimeout = TimeSpan.FromSeconds(10),
            LoggerFactory = loggers,
            // Entities through DurableTask.Core's entity dispatcher (Entities.cs).
            UseSeparateQueueForEntityWorkItems = true,
        };
        if (o.Base64Queues)
            settings.QueueClientMessageEncoding = QueueClientMessageEncoding.Base64;
        return new AzureStorageOrchestrationService(settings);
    }

    public static TableServiceClient Tables(Options o) => new(o.ConnectionString);

    /// <summary>Whether the hub's Instances table exists (client commands never create a hub).</summary>
    public static async Task<bool> ExistsAsync(Options o)
    {
        string name = o.Hub + "Instances";
        await foreach (var t in Tables(o).QueryAsync(filter: $"TableName eq '{name}'"))
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    /// <summary>The hub's partition count: --partitions, else the row count of {hub}Partitions, else 4.</summary>
    public static async Task<int> PartitionsAsync(Options o)
    {
        if (o.Partitions is int n)
            return n;
        try
        {
            int rows = 0;
            var table = Tables(o).GetTableClient(o.Hub + "Partitions");
            await foreach (var _ in table.QueryAsync<TableEntity>(select: new[] { "RowKey" }))
                rows++;
            if (rows is >= 1 and <= 16)
                return rows;
        }
        catch (Azure.RequestFailedException) { }
        return 4;
    }
}
