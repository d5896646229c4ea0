// The Apache ZooKeeper side of `npm run bench -- --vs-zookeeper`: a load generator on ZooKeeper's
// own asynchronous Java client (callbacks, no thread per request), so the baseline is measured
// with the client ZooKeeper users run and the driver is not the bottleneck (bench/run.ts reports
// this process's CPU from /proc next to the server's).
//
// Compiled at bench time by bench/lib/zookeeper.ts into a temporary directory (never committed):
//   javac -cp /usr/share/java/zookeeper.jar -d DIR bench/zk-driver/ZkDriver.java
// Run:
//   java -cp DIR:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar ZkDriver mode=load ...
//
// Modes (arguments are key=value):
//   mode=load     connect=H:P shape=get|set|mix|eph sessions=S outstanding=K warmupMs= durationMs=
//                 valueBytes=1024 nodes=64
//   mode=watchers connect=H:P watchers=W                 (watch fan-out: a share of the watchers,
//                 driven over stdin: "arm R" arms every watch, prints "armed", then "notified" with
//                 each watcher's System.nanoTime once all fired; "set R" (in a JVM with watchers=0)
//                 does the setData and prints its start time; "close" ends. The orchestrator spreads
//                 10,000 watchers over several JVMs: each ZooKeeper client holds ~3 file descriptors)
//   mode=populate connect=H:P znodes=N valueBytes=100 sessions=S outstanding=K [from=0] [batch=1]
//   mode=writer   connect=H1:P1,H2:P2,... path=/p durationMs=   (failover: one session, one
//                 synchronous setData at a time; prints {"event":"w","s":sentNs,"e":doneNs} for
//                 every success and {"event":"we",...} for every failure; "close" on stdin ends)
// In mode=load, connect may list several servers separated by '|': session s connects to entry
// (sessionOffset + s) % n alone, so the sessions of several driver JVMs spread evenly over an
// ensemble; waitGo=1 waits for a "go" line on stdin after "ready"; setup=0 skips creating the data znodes (another JVM of the run does it). The result
// also carries "hist": the latencies as "µs:count" pairs (3 significant digits), for merging.
// Output: one JSON object per line on stdout. Lines with "event":"measure-start" and
// "event":"measure-end" mark the measurement window (the orchestrator samples the server's and
// this process's CPU from /proc at those lines); the last line has "event":"result".
// Every loop is bounded by a deadline; any failure prints "event":"error" and exits non-zero.

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class ZkDriver {
  static final int SESSION_TIMEOUT_MS = 30_000;
  static final long CONNECT_DEADLINE_MS = 120_000;

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (String a : argv) {
      int eq = a.indexOf('=');
      if (eq <= 0) fail("bad argument (want key=value): " + a);
      args.put(a.substring(0, eq), a.substring(eq + 1));
    }
    String mode = req(args, "mode");
    try {
      switch (mode) {
        case "load": load(args); break;
        case "watchers": watchers(args); break;
        case "populate": populate(args); break;
        case "writer": writer(args); break;
        default: fail("unknown mode " + mode);
      }
    } catch (Throwable t) {
      fail(t.toString());
    }
    System.out.flush();
    // ZooKeeper client threads are non-daemon; exit explicitly once results are printed.
    System.exit(0);
  }

  // ---------------------------------------------------------------- helpers

  static String req(Map<String, String> args, String key) {
    String v = args.get(key);
    if (v == null) fail("missing argument " + key + "=");
    return v;
  }

  static int intArg(Map<String, String> args, String key, int dflt) {
    String v = args.get(key);
    return v == null ? dflt : Integer.parseInt(v);
  }

  static void fail(String message) {
    emit("{\"event\":\"error\",\"message\":" + quote(message) + "}");
    System.exit(2);
  }

  static synchronized void emit(String jsonLine) {
    System.out.println(jsonLine);
    System.out.flush();
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static long processCpuNs() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    return -1;
  }

  /** Opens n sessions concurrently (the constructor does not block) and waits for all. */
  static ZooKeeper[] openSessions(String connect, int n, Watcher[] watchers) throws Exception {
    ZooKeeper[] zks = new ZooKeeper[n];
    CountDownLatch connected = new CountDownLatch(n);
    final int batch = 500; // bounded number of handshakes in flight
    for (int start = 0; start < n; start += batch) {
      int end = Math.min(n, start + batch);
      CountDownLatch batchLatch = new CountDownLatch(end - start);
      for (int i = start; i < end; i++) {
        final Watcher user = watchers == null ? null : watchers[i];
        final boolean[] counted = {false};
        Watcher w = (WatchedEvent e) -> {
          if (e.getType() == Watcher.Event.EventType.None) {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
              synchronized (counted) {
                if (!counted[0]) {
                  counted[0] = true;
                  connected.countDown();
                  batchLatch.countDown();
                }
              }
            }
            return;
          }
          if (user != null) user.process(e);
        };
        zks[i] = new ZooKeeper(connect, SESSION_TIMEOUT_MS, w);
      }
      if (!batchLatch.await(CONNECT_DEADLINE_MS, TimeUnit.MILLISECONDS)) fail("sessions did not connect in time");
    }
    if (!connected.await(CONNECT_DEADLINE_MS, TimeUnit.MILLISECONDS)) fail("sessions did not connect in time");
    return zks;
  }

  static void closeAll(ZooKeeper[] zks) {
    for (ZooKeeper zk : zks) {
      try {
        zk.close(1_000);
      } catch (Exception ignored) {
        // best effort: the server is stopped right after anyway
      }
    }
  }

  static void ensure(ZooKeeper zk, String path, byte[] data) throws Exception {
    try {
      zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      zk.setData(path, data, -1);
    }
  }

  /** Latencies in microseconds, appended by one thread (a session's event thread). */
  static final class LatencyLog {
    long[] values = new long[1 << 14];
    int size = 0;

    void add(long us) {
      if (size == values.length) values = Arrays.copyOf(values, size * 2);
      values[size++] = us;
    }
  }

  static long[] merge(List<LatencyLog> logs) {
    int total = 0;
    for (LatencyLog l : logs) total += l.size;
    long[] all = new long[total];
    int at = 0;
    for (LatencyLog l : logs) {
      System.arraycopy(l.values, 0, all, at, l.size);
      at += l.size;
    }
    Arrays.sort(all);
    return all;
  }

  static long pct(long[] sorted, double p) {
    if (sorted.length == 0) return 0;
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  // ---------------------------------------------------------------- load

  static final class Window {
    volatile long startNs = Long.MAX_VALUE;
    volatile long endNs = Long.MAX_VALUE;
    volatile boolean stopping = false;
    final AtomicLong inflight = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
  }

  static void load(Map<String, String> args) throws Exception {
    String[] targets = req(args, "connect").split("\\|");
    String connect = targets[0];
    int sessionOffset = intArg(args, "sessionOffset", 0);
    boolean setup = intArg(args, "setup", 1) != 0;
    String shape = req(args, "shape");
    int sessions = intArg(args, "sessions", 32);
    int outstanding = intArg(args, "outstanding", 32);
    int warmupMs = intArg(args, "warmupMs", 1_000);
    int durationMs = intArg(args, "durationMs", 5_000);
    int valueBytes = intArg(args, "valueBytes", 1_024);
    int nodes = intArg(args, "nodes", 64);
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 'x');

    ZooKeeper admin = openSessions(connect, 1, null)[0];
    if (setup) {
      ensure(admin, "/bench", new byte[0]);
      for (int i = 0; i < nodes; i++) ensure(admin, "/bench/n-" + i, value);
    }
    ZooKeeper[] zks = new ZooKeeper[sessions];
    for (int t = 0; t < targets.length; t++) {
      List<Integer> mine = new ArrayList<>();
      for (int s = 0; s < sessions; s++) if ((sessionOffset + s) % targets.length == t) mine.add(s);
      if (mine.isEmpty()) continue;
      ZooKeeper[] opened = openSessions(targets[t], mine.size(), null);
      for (int j = 0; j < opened.length; j++) zks[mine.get(j)] = opened[j];
    }
    if (!setup) {
      // The data znodes come from the JVM with setup=1: wait until they are visible here.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (admin.exists("/bench/n-" + (nodes - 1), false) == null) {
        if (System.nanoTime() > deadline) fail("data znodes not created in time");
        Thread.sleep(20);
      }
    }
    emit("{\"event\":\"ready\",\"sessions\":" + sessions + "}");
    if (intArg(args, "waitGo", 0) != 0) {
      // Several JVMs of one run start their load together: the orchestrator writes "go" to all.
      String go = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
      if (go == null || !go.trim().equals("go")) fail("expected go on stdin, got " + go);
    }

    Window win = new Window();
    List<LatencyLog> logs = new ArrayList<>();
    long[] counts = new long[sessions];
    for (int s = 0; s < sessions; s++) logs.add(new LatencyLog());

    for (int s = 0; s < sessions; s++) {
      for (int k = 0; k < outstanding; k++) {
        Slot slot = new Slot(zks[s], shape, "/bench/n-" + ((s * outstanding + k) % nodes),
            "/bench/e-" + s + "-" + k, value, win, logs.get(s), counts, s);
        win.inflight.incrementAndGet();
        slot.next();
      }
    }
    long t0 = System.nanoTime();
    Thread.sleep(warmupMs);
    long cpu0 = processCpuNs();
    win.startNs = System.nanoTime();
    emit("{\"event\":\"measure-start\"}");
    Thread.sleep(durationMs);
    win.endNs = System.nanoTime();
    emit("{\"event\":\"measure-end\"}");
    long cpu1 = processCpuNs();
    win.stopping = true;
    long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (win.inflight.get() > 0 && System.nanoTime() < drainDeadline) Thread.sleep(5);

    long[] lat = merge(logs);
    long ops = lat.length;
    double seconds = (win.endNs - win.startNs) / 1e9;
    emit("{\"event\":\"result\",\"shape\":" + quote(shape)
        + ",\"sessions\":" + sessions + ",\"outstanding\":" + outstanding
        + ",\"ops\":" + ops + ",\"seconds\":" + seconds
        + ",\"opsPerSec\":" + (ops / seconds)
        + ",\"errors\":" + win.errors.get()
        + ",\"firstError\":" + (win.firstError.get() == null ? "null" : quote(win.firstError.get()))
        + ",\"latencyUs\":{\"p50\":" + pct(lat, 50) + ",\"p99\":" + pct(lat, 99) + ",\"p999\":" + pct(lat, 99.9)
        + ",\"max\":" + (lat.length == 0 ? 0 : lat[lat.length - 1]) + "}"
        + ",\"hist\":" + quote(sparseHistogram(lat))
        + ",\"driverCpuSelfNs\":" + (cpu1 - cpu0)
        + ",\"unfinished\":" + win.inflight.get()
        + ",\"elapsedTotalMs\":" + ((System.nanoTime() - t0) / 1_000_000) + "}");
    closeAll(zks);
    admin.close(1_000);
  }

  /** Sorted latencies as "value:count,..." with values rounded to 3 significant digits. */
  static String sparseHistogram(long[] sorted) {
    StringBuilder b = new StringBuilder();
    long cur = -1;
    long count = 0;
    for (long v : sorted) {
      long r = round3(v);
      if (r != cur) {
        if (count > 0) b.append(b.length() == 0 ? "" : ",").append(cur).append(':').append(count);
        cur = r;
        count = 0;
      }
      count++;
    }
    if (count > 0) b.append(b.length() == 0 ? "" : ",").append(cur).append(':').append(count);
    return b.toString();
  }

  static long round3(long v) {
    long scale = 1;
    while (v / scale >= 1000) scale *= 10;
    return Math.max(1, (v / scale) * scale);
  }

  // ---------------------------------------------------------------- writer (failover)

  static void writer(Map<String, String> args) throws Exception {
    String connect = req(args, "connect");
    String path = args.getOrDefault("path", "/bench-failover");
    int durationMs = intArg(args, "durationMs", 600_000);
    ZooKeeper zk = openSessions(connect, 1, null)[0];
    try {
      zk.create(path, new byte[] {0}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // left by an earlier round
    }
    final boolean[] stop = {false};
    Thread reader = new Thread(() -> {
      try {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) if (line.trim().equals("close")) break;
      } catch (Exception ignored) {
        // stdin gone: stop as well
      }
      stop[0] = true;
    });
    reader.setDaemon(true);
    reader.start();
    emit("{\"event\":\"ready\"}");
    byte[] value = new byte[] {1};
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs);
    while (!stop[0] && System.nanoTime() < deadline) {
      long s = System.nanoTime();
      try {
        zk.setData(path, value, -1);
        emit("{\"event\":\"w\",\"s\":" + s + ",\"e\":" + System.nanoTime() + "}");
      } catch (KeeperException e) {
        emit("{\"event\":\"we\",\"s\":" + s + ",\"e\":" + System.nanoTime() + ",\"code\":" + quote(e.code().toString()) + "}");
        Thread.sleep(1); // a connection loss returns at once: do not spin
      }
    }
    emit("{\"event\":\"result\"}");
    zk.close(1_000);
  }

  /** One of a session's K outstanding requests: issues the next as soon as one completes. */
  static final class Slot implements AsyncCallback.DataCallback, AsyncCallback.StatCallback,
      AsyncCallback.StringCallback, AsyncCallback.VoidCallback {
    final ZooKeeper zk;
    final String shape;
    final String dataPath;
    final String ephPath;
    final byte[] value;
    final Window win;
    final LatencyLog log;
    final long[] counts;
    final int session;
    long sentNs;
    boolean ephCreated = false;

    Slot(ZooKeeper zk, String shape, String dataPath, String ephPath, byte[] value, Window win,
        LatencyLog log, long[] counts, int session) {
      this.zk = zk;
      this.shape = shape;
      this.dataPath = dataPath;
      this.ephPath = ephPath;
      this.value = value;
      this.win = win;
      this.log = log;
      this.counts = counts;
      this.session = session;
    }

    void next() {
      if (win.stopping && !(shape.equals("eph") && ephCreated)) {
        win.inflight.decrementAndGet();
        return;
      }
      sentNs = System.nanoTime();
      switch (shape) {
        case "get":
          zk.getData(dataPath, false, (AsyncCallback.DataCallback) this, null);
          break;
        case "set":
          zk.setData(dataPath, value, -1, (AsyncCallback.StatCallback) this, null);
          break;
        case "mix":
          if (ThreadLocalRandom.current().nextInt(10) == 0) {
            zk.setData(dataPath, value, -1, (AsyncCallback.StatCallback) this, null);
          } else {
            zk.getData(dataPath, false, (AsyncCallback.DataCallback) this, null);
          }
          break;
        case "eph":
          if (ephCreated) zk.delete(ephPath, -1, (AsyncCallback.VoidCallback) this, null);
          else zk.create(ephPath, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL,
              (AsyncCallback.StringCallback) this, null);
          break;
        default:
          fail("unknown shape " + shape);
      }
    }

    void done(int rc) {
      long now = System.nanoTime();
      if (rc != 0) {
        win.errors.incrementAndGet();
        win.firstError.compareAndSet(null, KeeperException.Code.get(rc).toString());
      } else if (now >= win.startNs && now < win.endNs) {
        log.add((now - sentNs) / 1_000);
      }
      if (shape.equals("eph") && rc == 0) ephCreated = !ephCreated;
      next();
    }

    @Override public void processResult(int rc, String path, Object ctx, byte[] data, Stat stat) { done(rc); }
    @Override public void processResult(int rc, String path, Object ctx, Stat stat) { done(rc); }
    @Override public void processResult(int rc, String path, Object ctx, String name) { done(rc); }
    @Override public void processResult(int rc, String path, Object ctx) { done(rc); }
  }

  // ---------------------------------------------------------------- watch fan-out

  static void watchers(Map<String, String> args) throws Exception {
    String connect = req(args, "connect");
    int watchers = intArg(args, "watchers", 1_000);
    String path = "/bench-watch";
    ZooKeeper admin = openSessions(connect, 1, null)[0];
    try {
      admin.create(path, new byte[] {0}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // another JVM of this run created it
    }
    long t0 = System.nanoTime();
    final long[] notifiedNs = new long[watchers];
    final CountDownLatch[] latch = {new CountDownLatch(0)};
    Watcher[] ws = new Watcher[watchers];
    for (int i = 0; i < watchers; i++) {
      final int idx = i;
      ws[i] = (WatchedEvent e) -> {
        if (e.getType() == Watcher.Event.EventType.NodeDataChanged) {
          notifiedNs[idx] = System.nanoTime();
          latch[0].countDown();
        }
      };
    }
    ZooKeeper[] zks = watchers == 0 ? new ZooKeeper[0] : openSessions(connect, watchers, ws);
    emit("{\"event\":\"ready\",\"watchers\":" + watchers + ",\"connectMs\":" + ((System.nanoTime() - t0) / 1_000_000) + "}");
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    for (String line; (line = in.readLine()) != null; ) {
      String[] cmd = line.trim().split(" ");
      if (cmd[0].equals("close")) break;
      int round = cmd.length > 1 ? Integer.parseInt(cmd[1]) : 0;
      if (cmd[0].equals("set")) {
        long setNs = System.nanoTime();
        admin.setData(path, new byte[] {(byte) round}, -1);
        emit("{\"event\":\"set\",\"round\":" + round + ",\"ns\":" + setNs + "}");
      } else if (cmd[0].equals("arm")) {
        latch[0] = new CountDownLatch(watchers);
        Arrays.fill(notifiedNs, 0);
        CountDownLatch armed = new CountDownLatch(watchers);
        for (int i = 0; i < watchers; i++) zks[i].getData(path, true, (rc, p, ctx, data, stat) -> armed.countDown(), null);
        if (!armed.await(60, TimeUnit.SECONDS)) fail("watches were not armed in time");
        emit("{\"event\":\"armed\",\"round\":" + round + "}");
        latch[0].await(30, TimeUnit.SECONDS);
        StringBuilder b = new StringBuilder("{\"event\":\"notified\",\"round\":" + round + ",\"timesNs\":[");
        int missing = 0;
        for (int i = 0; i < watchers; i++) {
          if (notifiedNs[i] == 0) missing++;
          if (i > 0) b.append(',');
          b.append(notifiedNs[i]);
        }
        emit(b.append("],\"missing\":").append(missing).append('}').toString());
      }
    }
    closeAll(zks);
    admin.close(1_000);
  }

  // ---------------------------------------------------------------- populate (memory / recovery)

  static void populate(Map<String, String> args) throws Exception {
    String connect = req(args, "connect");
    int znodes = intArg(args, "znodes", 1_000_000);
    int from = intArg(args, "from", 0); // creates indexes from .. from+znodes-1
    int batch = intArg(args, "batch", 1); // creates per request: more than 1 = one multi (one txn)
    int valueBytes = intArg(args, "valueBytes", 100);
    int sessions = intArg(args, "sessions", 8);
    int outstanding = intArg(args, "outstanding", 256);
    final int fanout = 1_000; // /mem/<i / 1000>/<i % 1000>: no parent with a million children
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 'v');
    ZooKeeper[] zks = openSessions(connect, sessions, null);
    ensure(zks[0], "/mem", new byte[0]);
    for (int p = from / fanout; p * fanout < from + znodes; p++) ensure(zks[0], "/mem/" + p, new byte[0]);

    long t0 = System.nanoTime();
    AtomicLong nextIndex = new AtomicLong(from);
    AtomicLong errors = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(sessions * outstanding);
    for (int s = 0; s < sessions; s++) {
      final ZooKeeper zk = zks[s];
      for (int k = 0; k < outstanding; k++) {
        AsyncCallback.StringCallback[] cb = new AsyncCallback.StringCallback[1];
        cb[0] = (rc, path, ctx, name) -> {
          if (rc != 0) {
            errors.incrementAndGet();
            firstError.compareAndSet(null, KeeperException.Code.get(rc) + " " + path);
          }
          long i = nextIndex.getAndAdd(batch);
          if (i >= from + znodes) {
            done.countDown();
            return;
          }
          if (batch == 1) {
            zk.create("/mem/" + (i / fanout) + "/" + (i % fanout), value, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT, cb[0], null);
          } else {
            // One multi of up to `batch` creates: one txn.
            List<org.apache.zookeeper.Op> ops = new ArrayList<>();
            for (long j = i; j < Math.min(i + batch, (long) from + znodes); j++) {
              ops.add(org.apache.zookeeper.Op.create("/mem/" + (j / fanout) + "/" + (j % fanout), value,
                  ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            }
            zk.multi(ops, (mrc, mpath, mctx, results) -> cb[0].processResult(mrc, "multi@" + i, null, null), null);
          }
        };
        cb[0].processResult(0, null, null, null);
      }
    }
    if (!done.await(30, TimeUnit.MINUTES)) fail("populate did not finish in time");
    double seconds = (System.nanoTime() - t0) / 1e9;
    emit("{\"event\":\"result\",\"znodes\":" + znodes + ",\"seconds\":" + seconds
        + ",\"createsPerSec\":" + (znodes / seconds) + ",\"errors\":" + errors.get()
        + ",\"firstError\":" + (firstError.get() == null ? "null" : quote(firstError.get())) + "}");
    closeAll(zks);
  }
}
