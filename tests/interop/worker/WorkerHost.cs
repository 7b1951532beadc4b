// The "run" command: host a TaskHubWorker until SIGTERM/SIGINT or stdin EOF.

using System.Diagnostics;
using System.Runtime.InteropServices;
using DurableTask.Core;

namespace InteropWorker;

static class WorkerHost
{
    static readonly TimeSpan WarmupTimeout = TimeSpan.FromSeconds(110);
    static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(Options o)
    {
        if (o.Args.Count != 0)
            throw new UsageException("run takes no positional arguments");

        var clock = Stopwatch.StartNew();
        using var loggers = Hub.Logging(o.LogLevel);
        int partitions = o.Partitions ?? 4;
        var service = Hub.Service(o, partitions, loggers);

        var stopping = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); });
        if (!o.IgnoreStdin)
        {
            // Stop when stdin closes, so a parent that just drops its pipe ends the worker.
            _ = Task.Run(async () =>
            {
                var stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (await stdin.ReadAsync(buffer) > 0) { }
                stopping.Cancel();
            });
        }

        await service.CreateIfNotExistsAsync();
        long created = clock.ElapsedMilliseconds;

        var worker = new TaskHubWorker(service, loggers);
        Registry.Register(worker);
        Entities.Register(worker);
        await worker.StartAsync();
        long started = clock.ElapsedMilliseconds;

        // Ready means "an orchestration has actually run": StartAsync returns before the
        // partition leases are owned.
        var client = new TaskHubClient(service, Json.Converter, loggers);
        string warmupId = $"interop-warmup-{o.EffectiveWorkerId}-{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        await client.CreateOrchestrationInstanceAsync("Echo", "", warmupId, "warmup");
        var deadline = DateTime.UtcNow + WarmupTimeout;
        OrchestrationState? state = null;
        while (!stopping.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            state = await client.GetOrchestrationStateAsync(warmupId);
            if (state?.OrchestrationStatus is OrchestrationStatus.Completed or OrchestrationStatus.Failed)
                break;
            await Task.Delay(100);
        }
        if (state?.OrchestrationStatus != OrchestrationStatus.Completed)
        {
            Console.Error.WriteLine($"interop-worker: warm-up instance {warmupId} did not complete " +
                                    $"(status {state?.OrchestrationStatus.ToString() ?? "none"})");
            await StopAsync(worker);
            return 1;
        }
        long ready = clock.ElapsedMilliseconds;

        Console.Error.WriteLine($"interop-worker: hub {o.Hub}, {partitions} partitions, worker id {o.EffectiveWorkerId}, " +
                                $"poll {o.PollMs} ms; created {created} ms, started {started} ms, ready {ready} ms " +
                                $"(warm-up {warmupId})");
        Console.Out.WriteLine("worker ready");
        Console.Out.Flush();

        try { await Task.Delay(Timeout.Infinite, stopping.Token); }
        catch (OperationCanceledException) { }

        Console.Error.WriteLine("interop-worker: stopping");
        await StopAsync(worker);
        Console.Error.WriteLine("interop-worker: stopped");
        return 0;
    }

    static async Task StopAsync(TaskHubWorker worker)
    {
        var stop = worker.StopAsync(isForced: true);
        if (await Task.WhenAny(stop, Task.Delay(StopTimeout)) != stop)
            Console.Error.WriteLine($"interop-worker: StopAsync did not finish within {StopTimeout.TotalSeconds} s; exiting anyway");
        worker.Dispose();
    }
}
