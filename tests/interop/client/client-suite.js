// The client suite: the npm durable-functions package's DurableClient (pinned in the root
// package.json), built in plain node, against the gateway and
// the real Durable Task worker, in both of its URL modes:
//   rpc     rpcBaseUrl = http://127.0.0.1:PORT/durabletask/ on a second gateway run with
//           --no-auth: the host's local RPC listener checks no key, and the client sends none;
//   legacy  no rpcBaseUrl: the webhook templates (managementUrls, creationUrls, baseUrl) with
//           code=<system key>, WEBSITE_HOSTNAME set so the client keeps their origin.
// Each call is checked against what it returns with the Functions host.
// Run through tests/interop/run-suite.sh client.
'use strict';
const path = require('node:path');
const { InvocationContext, HttpRequest } = require('@azure/functions');
const df = require('durable-functions');
const { DurableOrchestrationStatus } = require('durable-functions/lib/src/orchestrations/DurableOrchestrationStatus');
const {
    env, api, check, checkEqual, show, cli, cliStatus, cliList, waitFor, sleep, enc, runScenarios, finish,
} = require(path.join(__dirname, '..', 'lib'));

const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];
const BULK = 110; // more than one page of 100

/** The durableClient binding data the host would hand the function. */
function clientData(mode) {
    const base = `${env.url}/runtime/webhooks/durabletask`;
    const code = `code=${env.key}`;
    const qs = `taskHub=${env.hub}&connection=Storage&${code}`;
    const m = (tail, reason) => `${base}/instances/INSTANCEID${tail}?${reason ? 'reason={text}&' : ''}${qs}`;
    const data = {
        taskHubName: env.hub,
        connectionName: null,
        creationUrls: {
            createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${code}`,
            createAndWaitOnNewInstancePostUri:
                `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
        },
        managementUrls: {
            id: 'INSTANCEID',
            statusQueryGetUri: m(''),
            sendEventPostUri: m('/raiseEvent/{eventName}'),
            terminatePostUri: m('/terminate', true),
            rewindPostUri: m('/rewind', true),
            purgeHistoryDeleteUri: m(''),
            restartPostUri: m('/restart'),
            suspendPostUri: m('/suspend', true),
            resumePostUri: m('/resume', true),
        },
        baseUrl: base,
        requiredQueryStringParameters: code,
        httpBaseUrl: null,
    };
    if (mode === 'rpc') data.rpcBaseUrl = `${env.rpcUrl}/durabletask/`;
    return data;
}

/** df.getClient over a fabricated InvocationContext, plus a record of every HTTP answer. */
function makeClient(mode) {
    const input = df.input.durableClient();
    const context = new InvocationContext({ invocationId: `interop-${mode}`, functionName: 'interop', options: { extraInputs: [input] } });
    context.extraInputs.set(input, clientData(mode));
    const client = df.getClient(context);
    const seen = [];
    client.axiosInstance.interceptors.response.use((r) => {
        seen.push({ url: r.config.url, status: r.status, token: r.headers['x-ms-continuation-token'], data: r.data });
        return r;
    });
    return { client, seen };
}

async function rejects(promise, pattern, what) {
    let err;
    try {
        await promise;
    } catch (e) {
        err = e;
    }
    check(err, `${what}: resolved, expected an error matching ${pattern}`);
    check(pattern.test(err.message), `${what}: error ${show(err.message)} does not match ${pattern}`);
}

async function waitClient(client, id, statuses, timeoutMs = 30000) {
    let last;
    await waitFor(async () => {
        last = await client.getStatus(id);
        return statuses.includes(last.runtimeStatus);
    }, { timeoutMs, what: () => `${id} to reach ${statuses.join('/')}; last ${show(last)}` });
    return last;
}

function modeScenarios(mode) {
    const { client, seen } = makeClient(mode);
    const id = (s) => `js-${mode}-${s}`;
    const list = [];
    const scenario = (name, fn, timeoutMs) => list.push({ name: `${mode}: ${name}`, fn, timeoutMs });

    scenario('startNew returns the instance id (generated, given, 409 on a running duplicate)', async () => {
        const gen = await client.startNew('E1_HelloSequence');
        check(/^[0-9a-f]{32}$/.test(gen), `generated id ${show(gen)}`);
        checkEqual(await client.startNew('E1_HelloSequence', { instanceId: id('e1'), input: { city: 'x', mode } }), id('e1'), 'given id');
        checkEqual(await client.startNew('WaitForEvent', { instanceId: id('dup') }), id('dup'), 'first start');
        await waitClient(client, id('dup'), ['Running']);
        await rejects(client.startNew('WaitForEvent', { instanceId: id('dup') }), /unexpected status code: 409/, 'duplicate start');
        await client.terminate(id('dup'), 'cleanup');
    });

    scenario('getStatus: a DurableOrchestrationStatus with Dates; 404 throws', async () => {
        const st = await waitClient(client, id('e1'), ['Completed']);
        check(st instanceof DurableOrchestrationStatus, 'not a DurableOrchestrationStatus');
        checkEqual(st.output, HELLO, 'output');
        checkEqual(st.input, { city: 'x', mode }, 'input');
        checkEqual(st.name, 'E1_HelloSequence', 'name');
        check(st.createdTime instanceof Date && !Number.isNaN(st.createdTime.getTime()), `createdTime ${show(st.createdTime)}`);
        check(st.lastUpdatedTime >= st.createdTime, 'lastUpdatedTime before createdTime');
        const fw = await cliStatus(id('e1'));
        checkEqual(st.createdTime.toISOString().slice(0, 19), fw.createdTime.slice(0, 19), 'createdTime vs the framework');
        await rejects(client.getStatus(id('nobody')), /replied with HTTP 404 response/, 'unknown instance');
    });

    scenario('getStatus with history: the host\'s historyEvents (status.history stays undefined, docs/http-api.md §7.3)', async () => {
        seen.length = 0;
        const st = await client.getStatus(id('e1'), { showHistory: true, showHistoryOutput: true, showInput: true });
        checkEqual(st.history, undefined, 'status.history');
        const raw = seen[seen.length - 1].data;
        check(Array.isArray(raw.historyEvents), `no historyEvents in ${show(raw, 300)}`);
        checkEqual(raw.historyEvents.map((e) => e.EventType),
            ['ExecutionStarted', 'TaskCompleted', 'TaskCompleted', 'TaskCompleted', 'ExecutionCompleted'], 'event types');
        checkEqual(raw.historyEvents.filter((e) => e.EventType === 'TaskCompleted').map((e) => e.Result), HELLO, 'results');
        check(!seen.some((s) => s.token), 'a continuation token on a single-instance GET');
    });

    scenario(`getStatusAll and getStatusBy over ${BULK}+ instances follow x-ms-continuation-token`, async () => {
        const marker = new Date(Date.now() - 1000);
        const ids = Array.from({ length: BULK }, (_, i) => id(`bulk-${String(i).padStart(3, '0')}`));
        for (let i = 0; i < ids.length; i += 10) {
            await Promise.all(ids.slice(i, i + 10).map((x) => client.startNew('Echo', { instanceId: x, input: x })));
        }
        await waitFor(async () => (await cliList([`instanceIdPrefix=${id('bulk-')}`, 'runtimeStatus=Completed'])).length === BULK,
            { timeoutMs: 60000, intervalMs: 500, what: 'the bulk instances to complete' });
        seen.length = 0;
        const all = await client.getStatusAll();
        check(Array.isArray(all), `getStatusAll gave ${show(all)}`);
        check(seen.filter((s) => s.token).length >= 1, `no continuation token over ${all.length} instances`);
        // The service query also returns entities (ids "@name@key"); the gateway leaves them
        // out of the orchestration list, as docs/http-api.md §4.4 allows.
        const fwAll = (await cliList()).filter((s) => !s.instanceId.startsWith('@'));
        checkEqual(all.map((s) => s.instanceId).sort(), fwAll.map((s) => s.instanceId).sort(), 'getStatusAll ids vs the framework');
        check(typeof all[0].createdTime === 'string', 'getStatusAll items are converted (the host\'s are raw)');
        seen.length = 0;
        const to = new Date(Date.now() + 1000);
        const by = await client.getStatusBy({ createdTimeFrom: marker, createdTimeTo: to, runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] });
        check(seen.filter((s) => s.token).length >= 1, `getStatusBy: no continuation token over ${by.length} instances`);
        const fwBy = await cliList([`createdTimeFrom=${marker.toISOString()}`, `createdTimeTo=${to.toISOString()}`, 'runtimeStatus=Completed']);
        checkEqual(by.map((s) => s.instanceId).sort(), fwBy.map((s) => s.instanceId).sort(), 'getStatusBy ids vs the framework');
        check(by.length >= BULK, `getStatusBy found ${by.length}`);
        check(by.every((s) => s.runtimeStatus === 'Completed'), 'getStatusBy returned another status');
        return `${all.length} instances, ${by.length} by filter`;
    }, 120000);

    scenario('raiseEvent completes the orchestration; 410 is swallowed; 404 throws', async () => {
        await client.startNew('WaitForEvent', { instanceId: id('raise') });
        await waitClient(client, id('raise'), ['Running']);
        checkEqual(await client.raiseEvent(id('raise'), 'Approval', { ok: mode }), undefined, 'raiseEvent result');
        const st = await waitClient(client, id('raise'), ['Completed']);
        checkEqual(st.output, { ok: mode }, 'output');
        await client.raiseEvent(id('raise'), 'Approval', 1); // 410: resolves
        await rejects(client.raiseEvent(id('nobody'), 'Approval', 1), /No instance with ID/, 'unknown instance');
    });

    scenario('terminate: Terminated with the reason; again is swallowed (410)', async () => {
        await client.startNew('WaitForEvent', { instanceId: id('term') });
        await waitClient(client, id('term'), ['Running']);
        await client.terminate(id('term'), 'stopped by js');
        const st = await waitClient(client, id('term'), ['Terminated']);
        checkEqual(st.output, 'stopped by js', 'output');
        await client.terminate(id('term'), 'again');
        await rejects(client.terminate(id('nobody'), 'x'), /No instance with ID/, 'unknown instance');
    });

    scenario('suspend and resume', async () => {
        await client.startNew('WaitForEvent', { instanceId: id('susp') });
        await waitClient(client, id('susp'), ['Running']);
        await client.suspend(id('susp'), 'pause');
        await waitClient(client, id('susp'), ['Suspended']);
        await client.resume(id('susp'), 'go');
        await waitClient(client, id('susp'), ['Running']);
        await client.raiseEvent(id('susp'), 'Approval', 'after resume');
        checkEqual((await waitClient(client, id('susp'), ['Completed'])).output, 'after resume', 'output');
    });

    scenario('rewind: Failed to Completed; not Failed rejects with the 412 text', async () => {
        await client.startNew('FailOnce', { instanceId: id('rewind') });
        await waitClient(client, id('rewind'), ['Failed']);
        await client.rewind(id('rewind'), 'js rewind');
        checkEqual((await waitClient(client, id('rewind'), ['Completed'])).output, 'recovered', 'output');
        await rejects(client.rewind(id('rewind'), 'again'), /only orchestrations in the "Failed" state can be rewound/, 'rewind of Completed');
        await rejects(client.rewind(id('nobody'), 'x'), /No orchestration with instance ID|No instance with ID/, 'rewind of no instance');
    });

    scenario('purgeInstanceHistory: {instancesDeleted: 1}, then 0 (404)', async () => {
        await client.startNew('Echo', { instanceId: id('purge'), input: 1 });
        await waitClient(client, id('purge'), ['Completed']);
        checkEqual({ ...(await client.purgeInstanceHistory(id('purge'))) }, { instancesDeleted: 1 }, 'first purge');
        checkEqual({ ...(await client.purgeInstanceHistory(id('purge'))) }, { instancesDeleted: 0 }, 'second purge');
        checkEqual(await cliStatus(id('purge')), null, 'framework status');
    });

    scenario('purgeInstanceHistoryBy: the terminated instances of a time window, nothing else', async () => {
        const from = new Date();
        await sleep(50);
        const term = [id('pby-t1'), id('pby-t2'), id('pby-t3')];
        for (const x of term) await client.startNew('WaitForEvent', { instanceId: x });
        await client.startNew('Echo', { instanceId: id('pby-keep'), input: 'kept' });
        for (const x of term) await waitClient(client, x, ['Running']);
        for (const x of term) await client.terminate(x, 'for purge');
        for (const x of term) await waitClient(client, x, ['Terminated']);
        await waitClient(client, id('pby-keep'), ['Completed']);
        const to = new Date(Date.now() + 1000);
        const r = await client.purgeInstanceHistoryBy({ createdTimeFrom: from, createdTimeTo: to, runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated] });
        checkEqual({ ...r }, { instancesDeleted: 3 }, 'purge result');
        for (const x of term) checkEqual(await cliStatus(x), null, `framework status of ${x}`);
        checkEqual((await cliStatus(id('pby-keep'))).runtimeStatus, 'Completed', 'the Completed instance is kept');
        const again = await client.purgeInstanceHistoryBy({ createdTimeFrom: from, createdTimeTo: to, runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated] });
        checkEqual({ ...again }, { instancesDeleted: 0 }, 'second purge (404)');
    });

    scenario('signalEntity and readEntityState', async () => {
        const entity = new df.EntityId('counter', id('counter'));
        const before = await client.readEntityState(entity);
        checkEqual([before.entityExists, before.entityState], [false, undefined], 'before any signal');
        checkEqual(await client.signalEntity(entity, 'add', 5), undefined, 'signalEntity result');
        await client.signalEntity(entity, 'add', 2);
        let last;
        await waitFor(async () => {
            last = await client.readEntityState(entity);
            return last.entityExists && last.entityState === 7;
        }, { what: () => `the counter to reach 7; last ${show(last)}` });
        // The client pastes the key into the path unencoded: "bad/key" makes a path no route
        // matches, which the host answers 404 too.
        await rejects(client.signalEntity(new df.EntityId('counter', 'bad/key'), 'add', 1), /unexpected status code: 404/, 'a key with /');
    });

    scenario('waitForCompletionOrCreateCheckStatusResponse: 200 output, 202 check-status, 500 Failed, 200 Terminated', async () => {
        const origin = mode === 'rpc' ? env.rpcUrl : env.url;
        const req = new HttpRequest({ method: 'POST', url: `${origin}/api/orchestrators/start` });
        const e1 = await client.startNew('E1_HelloSequence');
        let res = await client.waitForCompletionOrCreateCheckStatusResponse(req, e1, { timeoutInMilliseconds: 30000, retryIntervalInMilliseconds: 200 });
        checkEqual(res.status, 200, 'completed status');
        checkEqual(await res.json(), HELLO, 'completed body');

        const w = await client.startNew('WaitForEvent');
        res = await client.waitForCompletionOrCreateCheckStatusResponse(req, w, { timeoutInMilliseconds: 800, retryIntervalInMilliseconds: 200 });
        checkEqual(res.status, 202, 'timeout status');
        const body = await res.json();
        checkEqual(body.id, w, 'id');
        checkEqual(res.headers.get('location'), body.statusQueryGetUri, 'Location');
        checkEqual(res.headers.get('retry-after'), '10', 'Retry-After');
        check(body.statusQueryGetUri.startsWith(`${origin}/runtime/webhooks/durabletask/instances/${w}?`), `statusQueryGetUri ${body.statusQueryGetUri}`);
        check('rewindPostUri' in body && 'restartPostUri' in body, 'the management payload keys');
        // The links work against the keyed gateway (they carry code=).
        const viaLink = await api('GET', body.statusQueryGetUri.replace(origin, env.url), { key: null });
        checkEqual(viaLink.status, 202, 'GET statusQueryGetUri');
        const term = await api('POST', body.terminatePostUri.replace(origin, env.url).replace('{text}', enc('via link')), { key: null });
        checkEqual(term.status, 202, 'POST terminatePostUri');
        res = await client.waitForCompletionOrCreateCheckStatusResponse(req, w, { timeoutInMilliseconds: 20000, retryIntervalInMilliseconds: 200 });
        checkEqual(res.status, 200, 'terminated status');
        const tb = await res.json();
        checkEqual([tb.runtimeStatus, tb.output], ['Terminated', 'via link'], 'terminated body');

        const f = await client.startNew('AlwaysFail');
        res = await client.waitForCompletionOrCreateCheckStatusResponse(req, f, { timeoutInMilliseconds: 20000, retryIntervalInMilliseconds: 200 });
        checkEqual(res.status, 500, 'failed status');
        checkEqual((await res.json()).runtimeStatus, 'Failed', 'failed body');
    });
    return list;
}

(async () => {
    process.env.WEBSITE_HOSTNAME = env.url.replace(/^https?:\/\//, '');
    const only = process.env.DG_INTEROP_ONLY ? new RegExp(process.env.DG_INTEROP_ONLY) : null;
    let passed = 0;
    let failed = 0;
    // The modes one after the other (purge by time window must see only its own instances);
    // inside a mode, one scenario at a time, as a function app's code would call them.
    for (const mode of ['rpc', 'legacy']) {
        const t0 = Date.now();
        const list = modeScenarios(mode).filter((s) => !only || only.test(s.name));
        const [p, f] = await runScenarios(list, 1);
        passed += p;
        failed += f;
        console.log(`${mode} mode: ${list.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    finish(passed, failed);
})();
