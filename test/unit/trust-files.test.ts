/**
 * The pure parts of the registry's trust: addresses from the load balancer's status (and the ones that
 * must never become a path), the files per address, and the CA checks.
 */
import { describe, expect, it } from "vitest";
import { hostPort, loadBalancerAddresses } from "../../src/core/trust/address.js";
import { clientTrustFiles } from "../../src/core/trust/client-files.js";

const service = (ingress: Array<{ hostname?: string; ip?: string; ports?: Array<{ port: number }> }>) => ({
  metadata: { name: "registry-clouddrove" },
  spec: { ports: [{ port: 5000 }] },
  status: { loadBalancer: { ingress } },
});

describe("the registry's addresses", () => {
  it("takes every host name and IP of the load balancer, once each, on the registry port", () => {
    const addresses = loadBalancerAddresses(
      service([{ hostname: "a.elb.amazonaws.com" }, { ip: "10.0.0.5" }, { hostname: "a.elb.amazonaws.com" }]),
      5000,
    );
    expect(addresses.map(hostPort)).toEqual(["a.elb.amazonaws.com:5000", "10.0.0.5:5000"]);
  });

  it("takes the port the ingress reports for the registry's Service port (the sandbox's proxies do)", () => {
    const withPorts = {
      ...service([{ ip: "127.0.0.1", ports: [{ port: 31500 }] }]),
      spec: { ports: [{ port: 5000 }] },
    };
    expect(loadBalancerAddresses(withPorts, 5000).map(hostPort)).toEqual(["127.0.0.1:31500"]);
  });

  it("puts an IPv6 address in brackets, as image names and certs.d directories write it", () => {
    expect(hostPort({ host: "2001:db8::5", port: 5000 })).toBe("[2001:db8::5]:5000");
  });

  it("refuses an address that is not a host name (it would become a path)", () => {
    expect(() => loadBalancerAddresses(service([{ hostname: "../../etc" }]), 5000)).toThrow(
      "reports a load balancer address that is not a host name: '../../etc'",
    );
    expect(() => loadBalancerAddresses(service([{ hostname: "a..b" }]), 5000)).toThrow("not a host name");
  });

  it("says when the load balancer has no address yet, or the Service lacks the port", () => {
    expect(() => loadBalancerAddresses(service([]), 5000)).toThrow("has no load balancer address yet");
    expect(() => loadBalancerAddresses(service([{ ip: "10.0.0.5" }]), 5001)).toThrow("has no port 5001");
  });
});

describe("the client trust files", () => {
  it("are four per address, under the root, at the paths each tool reads", () => {
    const files = clientTrustFiles("PEM\n", [{ host: "r.example", port: 5000 }], "/tmp/root");
    expect(files.map((f) => [f.tool, f.path])).toEqual([
      ["docker", "/tmp/root/etc/docker/certs.d/r.example:5000/ca.crt"],
      ["containerd", "/tmp/root/etc/containerd/certs.d/r.example:5000/hosts.toml"],
      ["containerd", "/tmp/root/etc/containerd/certs.d/r.example:5000/ca.crt"],
      ["podman", "/tmp/root/etc/containers/certs.d/r.example:5000/ca.crt"],
    ]);
    expect(clientTrustFiles("PEM\n", [{ host: "r.example", port: 5000 }], "/")[0]?.path).toBe(
      "/etc/docker/certs.d/r.example:5000/ca.crt",
    );
  });
});
