-- Argo CD health check for nixplane's composite resources: Crossplane v2 XRs
-- in group platform.nixplane.io, any kind. Installed into argocd-cm by
-- components/argocdHealth.ts; every branch is run by test/argocdHealth.test.ts.
--
-- Argo CD runs this in gopher-lua (Lua 5.1) with only the base, table and a
-- restricted os library: no string.* functions, so this script sticks to
-- comparisons and `..`. Input is the global `obj`; output is `hs`.
--
-- Precedence (the first rule that matches wins):
--  1. Paused -> Suspended. A paused XR is deliberately not reconciled, and
--     Crossplane itself sets Synced=False (reason ReconcilePaused) on it, so
--     checking Synced first would flag every intentional pause as Degraded;
--     its other conditions are stale anyway.
--  2. No status/conditions yet -> Progressing: not reconciled yet.
--  3. Synced=False -> Degraded, then LastAsyncOperation=False -> Degraded.
--     Both win over Ready=True. Ready only means the resources seen last
--     were up. It stays True when a later update is rejected. The check that
--     used to be copied from the Crossplane docs returned Healthy at the first
--     Ready=True it met in the loop, hiding those failures
--     (crossplane/docs#841, crossplane/crossplane#6569). So all conditions
--     are collected first and then judged, whatever order they are listed in.
--     Synced comes before LastAsyncOperation: it describes the latest
--     reconcile, while LastAsyncOperation reports an earlier asynchronous
--     provider call.
--  4. Ready=True and Synced=True -> Healthy.
--  5. Anything else (Ready False/Unknown/missing, or Synced not True yet)
--     -> Progressing, with the blocking condition's message if it has one.

local hs = {}

local PAUSED_ANNOTATION = "crossplane.io/paused"

-- The condition's message, or else `fallback` plus its reason if it has one.
local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return fallback .. " (" .. condition.reason .. ")"
  end
  return fallback
end

local metadata = obj.metadata
if metadata ~= nil and metadata.annotations ~= nil
    and metadata.annotations[PAUSED_ANNOTATION] == "true" then
  hs.status = "Suspended"
  hs.message = "Reconciliation is paused by the " .. PAUSED_ANNOTATION .. " annotation"
  return hs
end

if obj.status == nil or obj.status.conditions == nil or next(obj.status.conditions) == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for resource to be reconciled"
  return hs
end

-- Index by type before judging, so the list order cannot matter (see 3.).
local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  if condition.type ~= nil and conditions[condition.type] == nil then
    conditions[condition.type] = condition
  end
end

local ready = conditions["Ready"]
local synced = conditions["Synced"]
local lastAsync = conditions["LastAsyncOperation"]

if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(synced, "Resource is not synced")
  return hs
end

if lastAsync ~= nil and lastAsync.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(lastAsync, "Last asynchronous operation failed")
  return hs
end

if ready ~= nil and ready.status == "True" then
  if synced ~= nil and synced.status == "True" then
    hs.status = "Healthy"
    hs.message = "Resource is ready and synced"
    return hs
  end
  hs.status = "Progressing"
  hs.message = describe(synced, "Waiting for resource to be synced")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for resource to become ready")
return hs
