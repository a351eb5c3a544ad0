/** The seed article's objects, as it writes them (test/helpers/kube). */

/** The article's `kubectl apply -f -` of the nginx Deployment, verbatim. */
export const SEED_NGINX_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
spec:
  selector:
    matchLabels:
      app: nginx
  replicas: 2
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
`;

/**
 * The article's kubectl commands after the Deployment, as argument lists. The article writes
 * `kubectl expose nginx`, which kubectl rejects (it needs the resource type): the valid command is
 * `kubectl expose deployment nginx --port 80` (--port is optional here since the container declares port 80).
 */
export const SEED_EXPOSE = ['expose', 'deployment', 'nginx', '--port', '80'];
export const SEED_PATCH_LOCAL = ['patch', 'service', 'nginx', '-p', '{"spec":{"type":"NodePort","externalTrafficPolicy":"Local"}}'];
export const SEED_PATCH_EXTERNAL_IP = ['patch', 'svc', 'nginx', '-p', '{"spec":{"externalIPs":["192.168.3.180"]}}'];

/** A namespace name unique to this test process, so suites sharing one control plane never collide. */
let seq = 0;
export function uniqueNamespace(prefix = 't'): string {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}`;
}
