// Apache Curator (Debian's libcurator-*-java 5.4) against a zookooper jute port, for
// test/jute/curator.test.ts and test/jute/interop.test.ts. Compiled by the test with javac into a
// temp dir; prints one JSON object on stdout (built by hand: no JSON library is needed for it).
//
//   java CuratorCheck recipes CONNECT
//       InterProcessMutex (two clients, never both hold), LeaderLatch (hand-over), CuratorCache
//       (the events another client's writes cause, in order), ServiceDiscovery (register, query,
//       unregister, and the instances of a closed client vanish).
//   java CuratorCheck mutex CONNECT LOCK_PATH LOG_PATH ROUNDS NAME
//       Prints {"ready":true}, waits for a line on stdin, then takes the lock ROUNDS times, logging
//       each hold into LOG_PATH with compare-and-set writes that make an overlap visible: see mutex().
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

public final class CuratorCheck {
  private static final int sessionTimeoutMs = 10_000;
  private static final int connectionTimeoutMs = 10_000;
  private static final long waitSeconds = 30;

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String out;
    if (mode.equals("recipes")) out = recipes(args[1]);
    else if (mode.equals("mutex")) out = mutex(args[1], args[2], args[3], Integer.parseInt(args[4]), args[5]);
    else throw new IllegalArgumentException("unknown mode " + mode);
    System.out.println(out);
    System.out.flush();
    System.exit(0); // Curator's and ZooKeeper's non-daemon threads would keep the JVM up
  }

  static CuratorFramework client(String connect) throws Exception {
    CuratorFramework c = CuratorFrameworkFactory.builder()
        .connectString(connect)
        .sessionTimeoutMs(sessionTimeoutMs)
        .connectionTimeoutMs(connectionTimeoutMs)
        .retryPolicy(new ExponentialBackoffRetry(100, 5))
        .build();
    c.start();
    if (!c.blockUntilConnected((int) waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("not connected to " + connect);
    return c;
  }

  // ------------------------------------------------------------------ recipes

  static String recipes(String connect) throws Exception {
    CuratorFramework a = client(connect);
    CuratorFramework b = client(connect);
    Json j = new Json();
    j.raw("mutex", mutexPair(a, b));
    j.raw("latch", latch(a, b));
    j.raw("cache", cache(a, b));
    j.raw("discovery", discovery(connect, b));
    a.close();
    b.close();
    return j.toString();
  }

  /** Two clients, each on its own thread, take one lock; a shared count catches any overlap. */
  static String mutexPair(CuratorFramework a, CuratorFramework b) throws Exception {
    int rounds = 15;
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
    for (Object[] who : new Object[][] {{a, "a"}, {b, "b"}}) {
      InterProcessMutex m = new InterProcessMutex((CuratorFramework) who[0], "/curator/mutex");
      String name = (String) who[1];
      Thread t = new Thread(() -> {
        try {
          for (int i = 0; i < rounds; i++) {
            if (!m.acquire(waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("acquire timed out");
            try {
              if (inside.incrementAndGet() > 1) overlaps.incrementAndGet();
              order.add(name);
              Thread.sleep(2);
              inside.decrementAndGet();
            } finally {
              m.release();
            }
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join(waitSeconds * 2000);
    if (!errors.isEmpty()) throw new IllegalStateException("mutex thread failed", errors.get(0));
    // Re-entrancy: one instance acquires twice, one node in the queue, released twice.
    InterProcessMutex m = new InterProcessMutex(a, "/curator/mutex");
    m.acquire();
    m.acquire();
    int nodesWhileHeld = m.getParticipantNodes().size();
    m.release();
    boolean stillHeld = m.isAcquiredInThisProcess();
    m.release();
    syncOn(a, "/curator/mutex"); // b's last release may have gone through another server
    int left = a.getChildren().forPath("/curator/mutex").size();
    Json j = new Json();
    j.num("overlaps", overlaps.get()).num("holds", order.size())
        .num("a", Collections.frequency(order, "a")).num("b", Collections.frequency(order, "b"))
        .num("reentrantNodes", nodesWhileHeld).bool("heldAfterOneRelease", stillHeld).num("nodesLeft", left);
    return j.toString();
  }

  /** a leads; b waits; a closes; b leads. */
  static String latch(CuratorFramework a, CuratorFramework b) throws Exception {
    LeaderLatch la = new LeaderLatch(a, "/curator/latch", "a");
    la.start();
    boolean aLeads = la.await(waitSeconds, TimeUnit.SECONDS);
    LeaderLatch lb = new LeaderLatch(b, "/curator/latch", "b");
    lb.start();
    // b's node is queued once it shows among the participants.
    long deadline = System.currentTimeMillis() + waitSeconds * 1000;
    while (la.getParticipants().size() < 2 && System.currentTimeMillis() < deadline) Thread.sleep(20);
    List<String> participants = new ArrayList<>();
    for (Participant p : la.getParticipants()) participants.add(p.getId() + (p.isLeader() ? "*" : ""));
    boolean bBefore = lb.hasLeadership();
    String leaderSeenByB = lb.getLeader().getId();
    la.close();
    boolean bLeads = lb.await(waitSeconds, TimeUnit.SECONDS);
    String leaderAfter = lb.getLeader().getId();
    lb.close();
    Json j = new Json();
    j.bool("aLeads", aLeads).strs("participants", participants).bool("bLeadsBefore", bBefore)
        .str("leaderSeenByB", leaderSeenByB).bool("bLeadsAfter", bLeads).str("leaderAfter", leaderAfter);
    return j.toString();
  }

  /** A CuratorCache on a's side records the events b's writes cause. */
  static String cache(CuratorFramework a, CuratorFramework b) throws Exception {
    a.create().creatingParentsIfNeeded().forPath("/curator/cache", "root".getBytes());
    a.create().forPath("/curator/cache/before", "0".getBytes());
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch initialized = new CountDownLatch(1);
    CountDownLatch deleted = new CountDownLatch(1);
    CuratorCache cache = CuratorCache.build(a, "/curator/cache");
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forCreates(n -> events.add("create " + n.getPath() + " " + new String(n.getData())))
        .forChanges((o, n) -> events.add("change " + n.getPath() + " " + new String(o.getData()) + "->" + new String(n.getData())))
        .forDeletes(n -> {
          events.add("delete " + n.getPath());
          if (n.getPath().equals("/curator/cache/x")) deleted.countDown();
        })
        .forInitialized(() -> {
          events.add("initialized");
          initialized.countDown();
        })
        .build());
    cache.start();
    if (!initialized.await(waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("cache not initialized");
    b.create().forPath("/curator/cache/x", "1".getBytes());
    waitFor(() -> cache.get("/curator/cache/x").isPresent(), "x in the cache");
    b.setData().forPath("/curator/cache/x", "2".getBytes());
    waitFor(() -> cache.get("/curator/cache/x").map(d -> new String(d.getData()).equals("2")).orElse(false), "x=2 in the cache");
    b.delete().forPath("/curator/cache/x");
    if (!deleted.await(waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("no delete event");
    int size = cache.size();
    cache.close();
    Json j = new Json();
    j.strs("events", new ArrayList<>(events)).num("sizeAtEnd", size);
    return j.toString();
  }

  /** Register on a client of its own, query from b, unregister, then close the registering client. */
  static String discovery(String connect, CuratorFramework b) throws Exception {
    CuratorFramework reg = client(connect);
    ServiceDiscovery<Void> sd = ServiceDiscoveryBuilder.builder(Void.class).client(reg).basePath("/curator/services").build();
    sd.start();
    ServiceInstance<Void> o1 = ServiceInstance.<Void>builder().name("orders").address("10.0.0.1").port(8001).build();
    ServiceInstance<Void> o2 = ServiceInstance.<Void>builder().name("orders").address("10.0.0.2").port(8002).build();
    ServiceInstance<Void> bill = ServiceInstance.<Void>builder().name("billing").address("10.0.0.3").port(9001).build();
    sd.registerService(o1);
    sd.registerService(o2);
    sd.registerService(bill);
    // b may read from another server than reg wrote through: ZooKeeper orders each session, not
    // two, so b syncs before it reads what reg wrote (as a ZooKeeper user would).
    syncOn(b, "/curator/services");
    ServiceDiscovery<Void> q = ServiceDiscoveryBuilder.builder(Void.class).client(b).basePath("/curator/services").build();
    q.start();
    List<String> names = new ArrayList<>(q.queryForNames());
    Collections.sort(names);
    List<String> orders = ports(q.queryForInstances("orders"));
    String byId = q.queryForInstance("orders", o2.getId()).getAddress();
    ServiceProvider<Void> provider = q.serviceProviderBuilder().serviceName("orders").build();
    provider.start();
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < 4; i++) picked.add(String.valueOf(provider.getInstance().getPort()));
    Collections.sort(picked);
    sd.unregisterService(o1);
    syncOn(b, "/curator/services");
    List<String> ordersAfter = ports(q.queryForInstances("orders"));
    sd.close();
    reg.close(); // its session ends: the remaining registrations are ephemeral and go with it
    waitFor(() -> q.queryForInstances("billing").isEmpty() && q.queryForInstances("orders").isEmpty(), "instances of a closed client vanish");
    List<String> afterClose = ports(q.queryForInstances("orders"));
    provider.close();
    q.close();
    Json j = new Json();
    j.strs("names", names).strs("orders", orders).str("byId", byId).strs("picked", picked)
        .strs("ordersAfterUnregister", ordersAfter).strs("ordersAfterClose", afterClose);
    return j.toString();
  }

  static List<String> ports(Collection<ServiceInstance<Void>> instances) {
    List<String> out = new ArrayList<>();
    for (ServiceInstance<Void> i : instances) out.add(i.getAddress() + ":" + i.getPort());
    Collections.sort(out);
    return out;
  }

  // ------------------------------------------------------------------ interop mutex

  /**
   * Takes the lock `rounds` times. Inside each hold it appends " NAME+" to LOG_PATH on entry and
   * "-" on exit, each a compare-and-set on the version it read. Another holder inside at the same
   * time shows as a violation: the entry read ends in an unfinished "+", or a write fails with
   * BADVERSION because someone wrote between our read and our write.
   */
  static String mutex(String connect, String lockPath, String logPath, int rounds, String name) throws Exception {
    CuratorFramework c = client(connect);
    InterProcessMutex m = new InterProcessMutex(c, lockPath);
    System.out.println("{\"ready\":true}");
    System.out.flush();
    if (System.in.read() < 0) throw new IllegalStateException("stdin closed before go");
    int violations = 0;
    int holds = 0;
    for (int i = 0; i < rounds; i++) {
      if (!m.acquire(waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("acquire timed out in round " + i);
      try {
        holds++;
        Stat stat = new Stat();
        String log = new String(c.getData().storingStatIn(stat).forPath(logPath));
        if (log.endsWith("+")) violations++; // someone else is inside
        try {
          c.setData().withVersion(stat.getVersion()).forPath(logPath, (log + " " + name + "+").getBytes());
        } catch (KeeperException.BadVersionException e) {
          violations++; // someone else wrote since our read: they are inside too
          stat.setVersion(c.setData().forPath(logPath, (log + " " + name + "+").getBytes()).getVersion() - 1);
        }
        Thread.sleep(1);
        Stat stat2 = new Stat();
        String mid = new String(c.getData().storingStatIn(stat2).forPath(logPath));
        try {
          c.setData().withVersion(stat.getVersion() + 1).forPath(logPath, (mid + "-").getBytes());
        } catch (KeeperException.BadVersionException e) {
          violations++;
          c.setData().forPath(logPath, (mid + "-").getBytes());
        }
      } finally {
        m.release();
      }
    }
    c.close();
    Json j = new Json();
    j.num("holds", holds).num("violations", violations);
    return j.toString();
  }

  // ------------------------------------------------------------------ small helpers

  interface Check {
    boolean holds() throws Exception;
  }

  /** ZooKeeper's sync on c's session: its next reads see every write committed before it. */
  static void syncOn(CuratorFramework c, String path) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    c.getZookeeperClient().getZooKeeper().sync(path, (rc, p, ctx) -> done.countDown(), null);
    if (!done.await(waitSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("sync " + path + " did not complete");
  }

  static void waitFor(Check check, String what) throws Exception {
    long deadline = System.currentTimeMillis() + waitSeconds * 1000;
    while (!check.holds()) {
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("timed out waiting for " + what);
      Thread.sleep(20);
    }
  }

  /** A JSON object built in insertion order; strings are escaped for quotes and backslashes. */
  static final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    private Json key(String k) {
      if (sb.length() > 1) sb.append(',');
      sb.append(quote(k)).append(':');
      return this;
    }

    Json num(String k, long v) { key(k).sb.append(v); return this; }
    Json bool(String k, boolean v) { key(k).sb.append(v); return this; }
    Json str(String k, String v) { key(k).sb.append(v == null ? "null" : quote(v)); return this; }
    Json raw(String k, String json) { key(k).sb.append(json); return this; }

    Json strs(String k, List<String> v) {
      key(k).sb.append('[');
      for (int i = 0; i < v.size(); i++) sb.append(i == 0 ? "" : ",").append(quote(v.get(i)));
      sb.append(']');
      return this;
    }

    static String quote(String s) {
      StringBuilder q = new StringBuilder("\"");
      for (char ch : s.toCharArray()) {
        if (ch == '"' || ch == '\\') q.append('\\').append(ch);
        else if (ch < 0x20) q.append(String.format("\\u%04x", (int) ch));
        else q.append(ch);
      }
      return q.append('"').toString();
    }

    @Override
    public String toString() { return sb.toString() + "}"; }
  }
}
