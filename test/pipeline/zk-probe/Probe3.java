import org.apache.zookeeper.*;
import java.util.*;
public class Probe3 {
  public static void main(String[] a) throws Exception {
    ZooKeeper zk = Probe.connect(a[0]);
    Probe.t("fresh stat /", () -> zk.exists("/", false));
    Probe.t("fresh stat /zookeeper", () -> zk.exists("/zookeeper", false));
    Probe.t("fresh stat /zookeeper/config", () -> zk.exists("/zookeeper/config", false));
    Probe.t("create seq /x- at fresh root", () -> zk.create("/x-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
    Probe.t("stat / after", () -> zk.exists("/", false));
    zk.close();
  }
}
