// Client subcommands over the framework's own TaskHubClient (and the AzureStorage
// service API where the client has no equivalent).  They never create or delete a hub.

using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

static class ClientCommands
{
    static readonly HashSet<OrchestrationStatus> Terminal = new()
    {
        OrchestrationStatus.Completed, OrchestrationStatus.Failed,
        OrchestrationStatus.Terminated, OrchestrationStatus.Canceled,
    };

    static void Print(JToken value) => Console.Out.WriteLine(value.ToString(Formatting.None));

    static string Arg(Options o, int i, string what)
        => i < o.Args.Count ? o.Args[i] : throw new UsageException($"{o.Command}: missing {what}");

    static string? OptArg(Options o, int i) => i < o.Args.Count ? o.Args[i] : null;

    static void MaxArgs(Options o, int n)
    {
        if (o.Args.Count > n)
            throw new UsageException($"{o.Command}: too many arguments");
    }

    static OrchestrationInstance Instance(string id) => new() { InstanceId = id };

    /// <summary>Positional-argument counts (min, max) per command, checked before any storage call.</summary>
    static readonly Dictionary<string, (int Min, int Max)> Arity = new()
    {
        ["start"] = (2, 3), ["status"] = (1, 1), ["wait"] = (2, 2), ["raise"] = (2, 3),
        ["terminate"] = (1, 2), ["suspend"] = (1, 2), ["resume"] = (1, 2), ["rewind"] = (1, 2),
        ["purge"] = (1, 1), ["purge-filter"] = (0, 3), ["history"] = (1, 1), ["list"] = (0, 6), ["start-many"] = (3, 4),
        ["artefacts"] = (0, 0), ["rows"] = (1, 2), ["peek"] = (1, 2), ["bench"] = (1, 4),
    };

    public static async Task<int> RunAsync(Options o)
    {
        if (Entities.IsCommand(o.Command))
            return await Entities.RunAsync(o);
        if (!Arity.TryGetValue(o.Command, out var arity))
            throw new UsageException($"unknown command '{o.Command}'");
        if (o.Args.Count < arity.Min || o.Args.Count > arity.Max)
            throw new UsageException($"{o.Command}: expected {arity.Min}..{arity.Max} arguments, got {o.Args.Count}");

        // Commands that only read storage directly.
        switch (o.Command)
        {
            case "artefacts": MaxArgs(o, 0); return await ArtefactsAsync(o);
            case "rows": MaxArgs(o, 2); return await RowsAsync(o);
            case "peek": MaxArgs(o, 2); return await PeekAsync(o);
        }

        if (!await Hub.ExistsAsync(o))
        {
            Console.Error.WriteLine($"interop-worker: task hub '{o.Hub}' does not exist ({o.Hub}Instances is missing); " +
                                    "start the worker first (client commands never create a hub)");
            return 3;
        }

        using var loggers = Hub.Logging(o.LogLevel);
        var service = Hub.Service(o, await Hub.PartitionsAsync(o), loggers);
        var client = new TaskHubClient(service, Json.Converter, loggers);

        if (o.Command == "bench")
            return await Bench.RunAsync(o, service);

        switch (o.Command)
        {
            case "start":
            {
                MaxArgs(o, 3);
                string name = Arg(o, 0, "NAME"), id = Arg(o, 1, "ID");
                string? inputText = OptArg(o, 2);
                JToken? input = string.IsNullOrEmpty(inputText) ? null : Json.Parse(inputText);
                var instance = await client.CreateOrchestrationInstanceAsync(
                    name, "", id is "" or "-" ? null : id, input);
                Console.Out.WriteLine(instance.InstanceId);
                return 0;
            }
            case "status":
            {
                MaxArgs(o, 1);
                var state = await client.GetOrchestrationStateAsync(Arg(o, 0, "ID"));
                if (state is null)
                {
                    Console.Out.WriteLine("null");
                    return 1;
                }
                Print(Json.Status(state));
                return 0;
            }
            case "wait":
            {
                MaxArgs(o, 2);
                string id = Arg(o, 0, "ID");
                string t = Arg(o, 1, "TIMEOUTSECONDS");
                if (!double.TryParse(t, System.Globalization.NumberStyles.Float,
                                     System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds < 0)
                    throw new UsageException($"wait: bad timeout '{t}'");
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
                while (true)
                {
                    var state = await client.GetOrchestrationStateAsync(id);
                    if (state is not null && Terminal.Contains(state.OrchestrationStatus))
                    {
                        Print(Json.Status(state));
                        return 0;
                    }
                    if (DateTime.UtcNow >= deadline)
                    {
                        Console.Out.WriteLine(state is null ? "null" : Json.Status(state).ToString(Formatting.None));
                        Console.Error.WriteLine($"interop-worker: wait: {id} not finished after {seconds} s");
                        return 124;
                    }
                    await Task.Delay(200);
                }
            }
            case "raise":
            {
                MaxArgs(o, 3);
                string id = Arg(o, 0, "ID"), name = Arg(o, 1, "EVENT");
                string? data = OptArg(o, 2);
                await client.RaiseEventAsync(Instance(id), name, string.IsNullOrEmpty(data) ? null! : Json.Parse(data)!);
                return 0;
            }
            case "terminate":
                MaxArgs(o, 2);
                await client.TerminateInstanceAsync(Instance(Arg(o, 0, "ID")), OptArg(o, 1) ?? "terminated by interop-worker");
                return 0;
            case "suspend":
                MaxArgs(o, 2);
                await client.SuspendInstanceAsync(Instance(Arg(o, 0, "ID")), OptArg(o, 1));
                return 0;
            case "resume":
                MaxArgs(o, 2);
                await client.ResumeInstanceAsync(Instance(Arg(o, 0, "ID")), OptArg(o, 1));
                return 0;
            case "rewind":
                MaxArgs(o, 2);
                await service.RewindTaskOrchestrationAsync(Arg(o, 0, "ID"), OptArg(o, 1) ?? "rewound by interop-worker");
                return 0;
            case "purge":
            {
                MaxArgs(o, 1);
                var r = await service.PurgeInstanceHistoryAsync(Arg(o, 0, "ID"));
                Print(new JObject
                {
                    ["instancesDeleted"] = r.InstancesDeleted,
                    ["rowsDeleted"] = r.RowsDeleted,
                });
                return 0;
            }
            case "purge-filter":
            {
                // createdTimeFrom=ISO createdTimeTo=ISO runtimeStatus=A,B, as the extension's
                // purge-by-filter passes them to the service (defaults: DateTime.MinValue, none, all).
                var styles = System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal;
                var inv = System.Globalization.CultureInfo.InvariantCulture;
                DateTime from = DateTime.MinValue;
                DateTime? to = null;
                List<OrchestrationStatus>? statuses = null;
                foreach (string f in o.Args)
                {
                    int eq = f.IndexOf('=');
                    string key = eq < 0 ? f : f[..eq], value = eq < 0 ? "" : f[(eq + 1)..];
                    switch (key)
                    {
                        case "createdTimeFrom": from = DateTime.Parse(value, inv, styles); break;
                        case "createdTimeTo": to = DateTime.Parse(value, inv, styles); break;
                        case "runtimeStatus":
                            statuses = value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                                .Select(Enum.Parse<OrchestrationStatus>).ToList();
                            break;
                        default: throw new UsageException($"purge-filter: unknown filter '{key}'");
                    }
                }
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var r = await service.PurgeInstanceHistoryAsync(from, to, statuses);
                Print(new JObject
                {
                    ["instancesDeleted"] = r.InstancesDeleted,
                    ["rowsDeleted"] = r.RowsDeleted,
                    ["ms"] = watch.ElapsedMilliseconds,
                });
                return 0;
            }
            case "history":
            {
                MaxArgs(o, 1);
                // The client wants the execution id too: take the latest execution's.
                var state = await client.GetOrchestrationStateAsync(Arg(o, 0, "ID"));
                if (state is null)
                {
                    Console.Out.WriteLine("null");
                    return 1;
                }
                string text = await client.GetOrchestrationHistoryAsync(state.OrchestrationInstance);
                Console.Out.WriteLine(Json.Text(Json.ParseOrString(text)));
                return 0;
            }
            case "start-many":
            {
                // NAME PREFIX COUNT [INPUTJSON]: ids PREFIX0000, PREFIX0001, ..., 16 at a time.
                string name = Arg(o, 0, "NAME"), prefix = Arg(o, 1, "PREFIX");
                if (!int.TryParse(Arg(o, 2, "COUNT"), out int count) || count < 1 || count > 10000)
                    throw new UsageException("start-many: COUNT must be 1..10000");
                string? inputText = OptArg(o, 3);
                JToken? input = string.IsNullOrEmpty(inputText) ? null : Json.Parse(inputText);
                using var gate = new SemaphoreSlim(16);
                var ids = Enumerable.Range(0, count).Select(i => $"{prefix}{i:D4}").ToList();
                await Task.WhenAll(ids.Select(async id =>
                {
                    await gate.WaitAsync();
                    try { await client.CreateOrchestrationInstanceAsync(name, "", id, input); }
                    finally { gate.Release(); }
                }));
                foreach (var id in ids)
                    Console.Out.WriteLine(id);
                return 0;
            }
            case "list":
            {
                // Optional filters, as the extension passes them to the service query:
                // createdTimeFrom=ISO createdTimeTo=ISO runtimeStatus=A,B instanceIdPrefix=P top=N showInput=BOOL
                var condition = new OrchestrationInstanceStatusQueryCondition { FetchInput = true, FetchOutput = true };
                int top = 100;
                foreach (string f in o.Args)
                {
                    int eq = f.IndexOf('=');
                    string key = eq < 0 ? f : f[..eq], value = eq < 0 ? "" : f[(eq + 1)..];
                    var styles = System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal;
                    var inv = System.Globalization.CultureInfo.InvariantCulture;
                    switch (key)
                    {
                        case "createdTimeFrom": condition.CreatedTimeFrom = DateTime.Parse(value, inv, styles); break;
                        case "createdTimeTo": condition.CreatedTimeTo = DateTime.Parse(value, inv, styles); break;
                        case "runtimeStatus":
                            condition.RuntimeStatus = value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                                .Select(Enum.Parse<OrchestrationStatus>).ToList();
                            break;
                        case "instanceIdPrefix": condition.InstanceIdPrefix = value; break;
                        case "top":
                            if (!int.TryParse(value, out top) || top < 1)
                                throw new UsageException($"list: bad top '{value}'");
                            break;
                        case "showInput": condition.FetchInput = bool.Parse(value); break;
                        default: throw new UsageException($"list: unknown filter '{key}'");
                    }
                }
                string? token = null;
                do
                {
                    var page = await service.GetOrchestrationStateAsync(condition, top, token, CancellationToken.None);
                    foreach (var state in page.OrchestrationState)
                        Print(Json.Status(state));
                    token = page.ContinuationToken;
                } while (!string.IsNullOrEmpty(token));
                return 0;
            }
            default:
                throw new UsageException($"unknown command '{o.Command}'");
        }
    }

    static async Task<int> ArtefactsAsync(Options o)
    {
        string h = o.Hub.ToLowerInvariant();
        bool Mine(string name) => name.StartsWith(o.Hub, StringComparison.OrdinalIgnoreCase);

        var tables = new JArray();
        await foreach (var t in Hub.Tables(o).QueryAsync())
            if (Mine(t.Name)) tables.Add(t.Name);

        var queues = new JArray();
        await foreach (var q in new QueueServiceClient(o.ConnectionString).GetQueuesAsync())
            if (q.Name.StartsWith(h + "-", StringComparison.Ordinal)) queues.Add(q.Name);

        var containers = new JArray();
        var blobs = new JArray();
        var blobService = new BlobServiceClient(o.ConnectionString);
        await foreach (var c in blobService.GetBlobContainersAsync())
        {
            if (!c.Name.StartsWith(h + "-", StringComparison.Ordinal))
                continue;
            containers.Add(c.Name);
            await foreach (var b in blobService.GetBlobContainerClient(c.Name).GetBlobsAsync())
                blobs.Add($"{c.Name}/{b.Name} ({b.Properties.ContentLength} bytes)");
        }

        Print(new JObject { ["tables"] = tables, ["queues"] = queues, ["containers"] = containers, ["blobs"] = blobs });
        return 0;
    }

    /// <summary>Raw rows of {hub}Instances / {hub}History / {hub}Partitions (or any table), one JSON line each.</summary>
    static async Task<int> RowsAsync(Options o)
    {
        string which = Arg(o, 0, "TABLE");
        string table = which is "Instances" or "History" or "Partitions" ? o.Hub + which : which;
        string? partitionKey = OptArg(o, 1);
        var client = Hub.Tables(o).GetTableClient(table);
        string? filter = partitionKey is null ? null : $"PartitionKey eq '{partitionKey.Replace("'", "''")}'";
        await foreach (var e in client.QueryAsync<Azure.Data.Tables.TableEntity>(filter))
        {
            var row = new JObject();
            foreach (var (key, value) in e)
            {
                row[key] = value switch
                {
                    null => JValue.CreateNull(),
                    DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"),
                    DateTime d => Json.Time(d),
                    byte[] b => Convert.ToBase64String(b),
                    Azure.ETag t => t.ToString(),
                    _ => JToken.FromObject(value),
                };
            }
            Print(row);
        }
        return 0;
    }

    static async Task<int> PeekAsync(Options o)
    {
        string h = o.Hub.ToLowerInvariant();
        string which = Arg(o, 0, "QUEUE");
        int max = 32;
        if (OptArg(o, 1) is string m && (!int.TryParse(m, out max) || max < 1 || max > 32))
            throw new UsageException($"peek: MAX must be 1..32, got '{m}'");

        var queueService = new QueueServiceClient(o.ConnectionString);
        var names = new List<string>();
        if (which == "all")
        {
            await foreach (var q in queueService.GetQueuesAsync(prefix: h + "-"))
                names.Add(q.Name);
        }
        else
        {
            names.Add(which.StartsWith("control-", StringComparison.Ordinal) || which == "workitems" ? $"{h}-{which}" : which);
        }

        foreach (var name in names)
        {
            var queue = queueService.GetQueueClient(name);
            var peeked = await queue.PeekMessagesAsync(max);
            foreach (var msg in peeked.Value)
            {
                Print(new JObject
                {
                    ["queue"] = name,
                    ["messageId"] = msg.MessageId,
                    ["insertedOn"] = msg.InsertedOn?.UtcDateTime.ToString("o"),
                    ["expiresOn"] = msg.ExpiresOn?.UtcDateTime.ToString("o"),
                    ["dequeueCount"] = msg.DequeueCount,
                    ["text"] = msg.Body.ToString(),
                });
            }
        }
        return 0;
    }
}
