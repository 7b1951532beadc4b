// durable-gateway interop worker: a real Durable Task Framework worker (TaskHubWorker over
// AzureStorageOrchestrationService) plus client subcommands built on the framework's own
// TaskHubClient, so tests can compare the gateway with genuine DurableTask.AzureStorage.
//
// Usage: see Usage below, or scripts/lib/worker.sh.

using InteropWorker;
using Newtonsoft.Json;

const string Usage = """
usage: DurableGatewayInteropWorker COMMAND [ARGS] [OPTIONS]

worker:
  run                          host the worker; prints "worker ready" once a warm-up Echo
                               instance has completed; runs until SIGTERM/SIGINT or stdin EOF
client (never create or delete the hub; exit 3 if it does not exist):
  start NAME ID [INPUTJSON]    start an orchestration (ID "" or "-" = new GUID); prints the id
  status ID                    one JSON status line ("null" and exit 1 if not found)
  wait ID TIMEOUTSECONDS       poll every 200 ms until Completed/Failed/Terminated/Canceled;
                               prints the final status line (exit 124 on timeout)
  raise ID EVENT [JSON]        raise an external event
  terminate ID [REASON]        terminate
  suspend ID [REASON] / resume ID [REASON]
  rewind ID [REASON]           rewind a failed instance (AzureStorage service API)
  purge ID                     purge one instance's history and status
  purge-filter [FILTER=VALUE...]
                               purge by filter (service API), as the extension does: createdTimeFrom,
                               createdTimeTo (ISO-8601), runtimeStatus (A,B); prints the counts and
                               the milliseconds the purge took
  history ID                   the instance's history as the framework reads it (JSON)
  list [FILTER=VALUE...]       instances (service query API), one JSON line each; filters as the
                               extension passes them: createdTimeFrom, createdTimeTo (ISO-8601),
                               runtimeStatus (A,B), instanceIdPrefix, top (page size), showInput
  start-many NAME PREFIX COUNT [INPUTJSON]
                               start COUNT instances PREFIX0000..; prints the ids
  bench SUBCOMMAND [ARGS]      timed bulk operations for bench/bulk.sh (list, scan, count,
                               purge-framework, purge-gateway; see Bench.cs)
  peek QUEUE [MAX]             peek raw queue messages without dequeuing them; QUEUE is a
                               queue name, "control-NN", "workitems" or "all" (every hub queue)
  artefacts                    the hub's tables, queues, containers and blobs (one JSON line)
  rows TABLE [PARTITIONKEY]    raw table rows, one JSON line each; TABLE is a table name or
                               Instances, History or Partitions (prefixed with the hub name)

options:
  --connection-string S        default: $AZURITE_CONNECTION_STRING
  --hub NAME                   default: DurableFunctionsHub
  --partitions N               1..16; run: default 4; client: default = rows of {hub}Partitions
  --worker-id ID               default: interop-worker-{hub} (stable across restarts)
  --poll-ms MS                 MaxQueuePollingInterval, default 500
  --log-level LEVEL            Trace..None, default Warning (logs go to stderr)
  --ignore-stdin               run: do not stop at stdin EOF (for background starts)
  --base64-queues              QueueClientMessageEncoding = Base64 (default UTF8)
""";

Options options;
try
{
    options = Options.Parse(args);
}
catch (UsageException e)
{
    if (e.Message != "")
        Console.Error.WriteLine($"interop-worker: {e.Message}");
    Console.Error.Write(Usage);
    return 2;
}

try
{
    return options.Command == "run"
        ? await WorkerHost.RunAsync(options)
        : await ClientCommands.RunAsync(options);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"interop-worker: {e.Message}");
    Console.Error.Write(Usage);
    return 2;
}
catch (Exception e) when (e is JsonReaderException)
{
    Console.Error.WriteLine($"interop-worker: invalid JSON argument: {e.Message}");
    return 2;
}
catch (Exception e)
{
    Console.Error.WriteLine($"interop-worker: {options.Command} failed: {e}");
    return 4;
}
