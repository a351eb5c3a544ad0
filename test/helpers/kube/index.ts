/**
 * Test helpers for a real Kubernetes control plane (see test/k8s/) and the node simulator, the one
 * stand-in (see node-sim.ts). A mocha suite:
 *
 *   const cp = await sharedControlPlane();          // or startControlPlane() + cp.stop()
 *   const sim = new NodeSimulator(cp.kubeConfig()); await sim.start();
 *   await cp.kubectlOk(['apply', '-n', ns, '-f', '-'], yaml);
 *   await waitForEndpointSlices(cp.kubeConfig(), ns, 'nginx', { ready: 2 });
 */
export * from './control-plane.js';
export * from './node-sim.js';
export * from './wait.js';
export * from './fixtures.js';
export * from './mocha.js';
