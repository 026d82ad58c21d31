import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names } from "../../core/render/names.js";
import { loadBalancerAddresses, type RegistryAddress } from "../../core/trust/address.js";
import { type CaCertificate, parseCaCertificate } from "../../core/trust/ca.js";
import { trustNames } from "../../core/trust/names.js";
import { OperationError } from "../../errors.js";

export async function readRegistryCa(kube: Kube, namespace: string): Promise<CaCertificate> {
  const where = `ConfigMap ${namespace}/${trustNames.caConfigMap}`;
  const configMap = await kube.get(named(Kinds.ConfigMap, trustNames.caConfigMap, namespace));
  const pem = configMap?.data?.[trustNames.caKey];
  if (pem === "") {
    // tls.mode secret with a publicly trusted certificate: deploy publishes no CA (docs/tls.md).
    throw new OperationError(`${where} holds no CA: the registry's certificate is publicly trusted`, {
      hint: "Nothing to install: Docker, containerd and Podman trust it as they are.",
    });
  }
  if (!pem) {
    throw new OperationError(`${where} ${configMap ? `has no key ${trustNames.caKey}` : "does not exist"}`, {
      hint:
        "The registry has no private CA there: deploy it with TLS mode private-ca (the default), or check " +
        "--namespace and the cluster (--kubeconfig, --context).",
    });
  }
  return parseCaCertificate(pem, where);
}

export async function readRegistryAddresses(kube: Kube, namespace: string): Promise<RegistryAddress[]> {
  const service = await kube.get(named(Kinds.Service, names.service, namespace));
  if (!service) {
    throw new OperationError(`Service ${namespace}/${names.service} does not exist`, {
      hint: "Deploy the registry first (clouddrove deploy), or check --namespace and the cluster.",
    });
  }
  return loadBalancerAddresses(service, names.ports.registry);
}
