/**
 * Route 53 (tls.mode acm with tls.hostedZoneId): the record that sends tls.hostname to the load
 * balancer, created or replaced (UPSERT) in the zone given. Only a deploy that asks loads the client.
 */
import { ChangeResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import type { DnsRecord } from "../../core/tls/acm.js";
import { awsClientConfig } from "./config.js";
import { aws } from "./errors.js";
import { silenceSdkNodeVersionWarning } from "./node-warning.js";

/** Route 53 is global; its API lives in us-east-1 whatever the cluster's region. */
export function route53Client(env: NodeJS.ProcessEnv): Route53Client {
  silenceSdkNodeVersionWarning();
  return new Route53Client(awsClientConfig("ROUTE_53", "us-east-1", env));
}

/** UPSERT: the record is created, or replaced when it points elsewhere; the change's id comes back. */
export async function upsertRecord(
  route53: Route53Client,
  zoneId: string,
  record: DnsRecord,
): Promise<string> {
  const answer = await aws(`writing ${record.type} ${record.name} in Route 53 zone ${zoneId}`, () =>
    route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Comment: "clouddrove: the registry's name -> its load balancer",
          Changes: [
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: record.name,
                Type: record.type,
                TTL: record.ttl,
                ResourceRecords: [{ Value: record.value }],
              },
            },
          ],
        },
      }),
    ),
  );
  return answer.ChangeInfo?.Id ?? "";
}
