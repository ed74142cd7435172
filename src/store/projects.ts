import type { StoredLiveKitProject } from './types.ts';

/** Workspaces grouped by the project they name (same URL and API key; a key has one secret), in the order given. */
export function groupProjects(
  rows: readonly { workspaceId: string; project: StoredLiveKitProject }[],
): { project: StoredLiveKitProject; workspaceIds: string[] }[] {
  const groups = new Map<string, { project: StoredLiveKitProject; workspaceIds: string[] }>();
  for (const { workspaceId, project } of rows) {
    const id = `${project.url}\u0000${project.apiKey}`;
    const group = groups.get(id) ?? { project, workspaceIds: [] };
    group.workspaceIds.push(workspaceId);
    groups.set(id, group);
  }
  return [...groups.values()];
}
