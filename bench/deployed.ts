/**
 * NODE_OPTIONS of the worker in docker-compose.yml and deploy/kubernetes/configmap.yaml: the bench runs its
 * fleet's worker with them (test/unit/kubernetes.test.ts keeps the three equal).
 */
export const DEPLOYED_WORKER_NODE_OPTIONS = '--max-old-space-size=768';
