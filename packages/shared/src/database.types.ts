
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "engine": {
          Tables: {
            "api_keys": {
                  Row: {
                    "created_at": string,"id": string,"last_used_at": string | null,"name": string,"prefix": string,"revoked_at": string | null,"secret_hash": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"last_used_at"?: string | null,"name": string,"prefix": string,"revoked_at"?: string | null,"secret_hash": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"last_used_at"?: string | null,"name"?: string,"prefix"?: string,"revoked_at"?: string | null,"secret_hash"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"asset_conversions": {
                  Row: {
                    "asset_id": string,"attempts": number,"created_at": string,"lease_until": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "asset_id": string,"attempts"?: number,"created_at"?: string,"lease_until"?: string | null
                  }
                  Update: {
                    "asset_id"?: string,"attempts"?: number,"created_at"?: string,"lease_until"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"flow_deps": {
                  Row: {
                    "depends_on": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"run_if_input": string | null,"step": string
                  }
                  ComputedFields: never
                  Insert: {
                    "depends_on": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"run_if_input"?: string | null,"step": string
                  }
                  Update: {
                    "depends_on"?: string,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"run_if_input"?: string | null,"step"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "flow_deps_pipeline_depends_on_fkey"
      columns: ["pipeline","depends_on"]
isOneToOne: false
      referencedRelation: "flow_steps"
      referencedColumns: ["pipeline","step"]
    },{
      foreignKeyName: "flow_deps_pipeline_step_fkey"
      columns: ["pipeline","step"]
isOneToOne: false
      referencedRelation: "flow_steps"
      referencedColumns: ["pipeline","step"]
    }
                  ]
                },"flow_steps": {
                  Row: {
                    "base_delay_ms": number,"capacity_key": string | null,"expected_wait": string | null,"fallback_capacity_key": string | null,"handler": string,"kind": string,"label": string | null,"lease_seconds": number,"map_over": string | null,"max_attempts": number,"max_delay_ms": number,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_every": string | null,"publish_output": boolean,"run_if_input": string | null,"runs_on": string,"starts_per_element": boolean,"step": string,"weight": number
                  }
                  ComputedFields: never
                  Insert: {
                    "base_delay_ms"?: number,"capacity_key"?: string | null,"expected_wait"?: string | null,"fallback_capacity_key"?: string | null,"handler": string,"kind"?: string,"label"?: string | null,"lease_seconds"?: number,"map_over"?: string | null,"max_attempts"?: number,"max_delay_ms"?: number,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_every"?: string | null,"publish_output"?: boolean,"run_if_input"?: string | null,"runs_on"?: string,"starts_per_element"?: boolean,"step": string,"weight": number
                  }
                  Update: {
                    "base_delay_ms"?: number,"capacity_key"?: string | null,"expected_wait"?: string | null,"fallback_capacity_key"?: string | null,"handler"?: string,"kind"?: string,"label"?: string | null,"lease_seconds"?: number,"map_over"?: string | null,"max_attempts"?: number,"max_delay_ms"?: number,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"poll_every"?: string | null,"publish_output"?: boolean,"run_if_input"?: string | null,"runs_on"?: string,"starts_per_element"?: boolean,"step"?: string,"weight"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "flow_steps_capacity_key_fkey"
      columns: ["capacity_key"]
isOneToOne: false
      referencedRelation: "provider_capacity"
      referencedColumns: ["key"]
    },{
      foreignKeyName: "flow_steps_fallback_capacity_key_fkey"
      columns: ["fallback_capacity_key"]
isOneToOne: false
      referencedRelation: "provider_capacity"
      referencedColumns: ["key"]
    }
                  ]
                },"media_cache": {
                  Row: {
                    "expires_at": string,"facts": NonNullable<Json>,"key": string,"kind": string,"path": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "expires_at": string,"facts"?: NonNullable<Json>,"key": string,"kind": string,"path": string,"user_id": string
                  }
                  Update: {
                    "expires_at"?: string,"facts"?: NonNullable<Json>,"key"?: string,"kind"?: string,"path"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"paid_calls": {
                  Row: {
                    "created_at": string,"credits": number,"id": string,"settled_at": string | null,"sku": string,"status": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"credits": number,"id"?: string,"settled_at"?: string | null,"sku": string,"status"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"credits"?: number,"id"?: string,"settled_at"?: string | null,"sku"?: string,"status"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"provider_capacity": {
                  Row: {
                    "backoff_seconds": number,"circuit_open_until": string | null,"failures": number,"key": string,"max_in_flight": number | null,"max_requests": number | null,"paused_until": string | null,"recent": (string)[],"source": string,"window_seconds": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "backoff_seconds"?: number,"circuit_open_until"?: string | null,"failures"?: number,"key": string,"max_in_flight"?: number | null,"max_requests"?: number | null,"paused_until"?: string | null,"recent"?: (string)[],"source": string,"window_seconds"?: number | null
                  }
                  Update: {
                    "backoff_seconds"?: number,"circuit_open_until"?: string | null,"failures"?: number,"key"?: string,"max_in_flight"?: number | null,"max_requests"?: number | null,"paused_until"?: string | null,"recent"?: (string)[],"source"?: string,"window_seconds"?: number | null
                  }
                  Relationships: [
                    
                  ]
                },"request_buckets": {
                  Row: {
                    "refilled_at": string,"tokens": number,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "refilled_at": string,"tokens": number,"user_id": string
                  }
                  Update: {
                    "refilled_at"?: string,"tokens"?: number,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"settings": {
                  Row: {
                    "api_burst": number,"api_requests_per_minute": number,"capacity_scale": number,"circuit_failures": number,"circuit_open_for": string,"failover": boolean,"first_poll_after": string,"free_calls_per_day": number,"generation_timeout": string,"id": boolean,"max_active_generations_per_user": number,"max_api_keys_per_user": number,"max_poll_interval": string,"poll_batch_size": number,"redispatch_after": string,"storage_quota_bytes": number,"submission_adopt_window": string,"wake_coalesce": string,"webhook_recheck_interval": string,"webhook_retry_scale": number,"welcome_credits": number
                  }
                  ComputedFields: never
                  Insert: {
                    "api_burst"?: number,"api_requests_per_minute"?: number,"capacity_scale"?: number,"circuit_failures"?: number,"circuit_open_for"?: string,"failover"?: boolean,"first_poll_after"?: string,"free_calls_per_day"?: number,"generation_timeout"?: string,"id"?: boolean,"max_active_generations_per_user"?: number,"max_api_keys_per_user"?: number,"max_poll_interval"?: string,"poll_batch_size"?: number,"redispatch_after"?: string,"storage_quota_bytes"?: number,"submission_adopt_window"?: string,"wake_coalesce"?: string,"webhook_recheck_interval"?: string,"webhook_retry_scale"?: number,"welcome_credits"?: number
                  }
                  Update: {
                    "api_burst"?: number,"api_requests_per_minute"?: number,"capacity_scale"?: number,"circuit_failures"?: number,"circuit_open_for"?: string,"failover"?: boolean,"first_poll_after"?: string,"free_calls_per_day"?: number,"generation_timeout"?: string,"id"?: boolean,"max_active_generations_per_user"?: number,"max_api_keys_per_user"?: number,"max_poll_interval"?: string,"poll_batch_size"?: number,"redispatch_after"?: string,"storage_quota_bytes"?: number,"submission_adopt_window"?: string,"wake_coalesce"?: string,"webhook_recheck_interval"?: string,"webhook_retry_scale"?: number,"welcome_credits"?: number
                  }
                  Relationships: [
                    
                  ]
                },"step_states": {
                  Row: {
                    "generation_id": string,"output": Json | null,"remaining_deps": number,"remaining_tasks": number | null,"status": string,"step": string,"task_count": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "generation_id": string,"output"?: Json | null,"remaining_deps": number,"remaining_tasks"?: number | null,"status"?: string,"step": string,"task_count"?: number | null
                  }
                  Update: {
                    "generation_id"?: string,"output"?: Json | null,"remaining_deps"?: number,"remaining_tasks"?: number | null,"status"?: string,"step"?: string,"task_count"?: number | null
                  }
                  Relationships: [
                    
                  ]
                },"tasks": {
                  Row: {
                    "attempt": number,"blocked_on": string | null,"capacity_key": string | null,"charged_round": number | null,"checked_at": string | null,"created_at": string,"dispatch_count": number,"element": Json | null,"error_code": string | null,"error_message": string | null,"generation_id": string,"handler": string,"id": number,"lease_token": string | null,"lease_until": string | null,"next_attempt_at": string,"next_poll_at": string | null,"output": Json | null,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_count": number,"price": number,"provider": string | null,"provider_progress": number,"provider_task_id": string | null,"status": Database["public"]['Enums']["task_status"],"step": string,"submit_lease": string | null,"submit_provider": string | null,"task_index": number,"updated_at": string,"user_id": string,"waiting_since": string | null,"wake_at": string | null,"webhook_token": string,"refund_task": undefined | null
                  }
                  ComputedFields: "refund_task"
                  Insert: {
                    "attempt"?: number,"blocked_on"?: string | null,"capacity_key"?: string | null,"charged_round"?: number | null,"checked_at"?: string | null,"created_at"?: string,"dispatch_count"?: number,"element"?: Json | null,"error_code"?: string | null,"error_message"?: string | null,"generation_id": string,"handler": string,"id"?: never,"lease_token"?: string | null,"lease_until"?: string | null,"next_attempt_at"?: string,"next_poll_at"?: string | null,"output"?: Json | null,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_count"?: number,"price"?: number,"provider"?: string | null,"provider_progress"?: number,"provider_task_id"?: string | null,"status"?: Database["public"]['Enums']["task_status"],"step": string,"submit_lease"?: string | null,"submit_provider"?: string | null,"task_index"?: number,"updated_at"?: string,"user_id": string,"waiting_since"?: string | null,"wake_at"?: string | null,"webhook_token"?: string
                  }
                  Update: {
                    "attempt"?: number,"blocked_on"?: string | null,"capacity_key"?: string | null,"charged_round"?: number | null,"checked_at"?: string | null,"created_at"?: string,"dispatch_count"?: number,"element"?: Json | null,"error_code"?: string | null,"error_message"?: string | null,"generation_id"?: string,"handler"?: string,"id"?: never,"lease_token"?: string | null,"lease_until"?: string | null,"next_attempt_at"?: string,"next_poll_at"?: string | null,"output"?: Json | null,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"poll_count"?: number,"price"?: number,"provider"?: string | null,"provider_progress"?: number,"provider_task_id"?: string | null,"status"?: Database["public"]['Enums']["task_status"],"step"?: string,"submit_lease"?: string | null,"submit_provider"?: string | null,"task_index"?: number,"updated_at"?: string,"user_id"?: string,"waiting_since"?: string | null,"wake_at"?: string | null,"webhook_token"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tasks_pipeline_step_fkey"
      columns: ["pipeline","step"]
isOneToOne: false
      referencedRelation: "flow_steps"
      referencedColumns: ["pipeline","step"]
    }
                  ]
                },"wakeups": {
                  Row: {
                    "consumed_at": string | null,"handler": string,"posted_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "consumed_at"?: string | null,"handler": string,"posted_at"?: string | null
                  }
                  Update: {
                    "consumed_at"?: string | null,"handler"?: string,"posted_at"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"webhook_attempts": {
                  Row: {
                    "attempt": number,"created_at": string,"delivery_id": number,"duration_ms": number,"error": string | null,"id": number,"response_status": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "attempt": number,"created_at"?: string,"delivery_id": number,"duration_ms": number,"error"?: string | null,"id"?: never,"response_status"?: number | null
                  }
                  Update: {
                    "attempt"?: number,"created_at"?: string,"delivery_id"?: number,"duration_ms"?: number,"error"?: string | null,"id"?: never,"response_status"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "webhook_attempts_delivery_id_fkey"
      columns: ["delivery_id"]
isOneToOne: false
      referencedRelation: "webhook_deliveries"
      referencedColumns: ["id"]
    }
                  ]
                },"webhook_deliveries": {
                  Row: {
                    "attempt": number,"completed_at": string | null,"created_at": string,"endpoint_id": string,"event": string,"id": number,"lease_until": string | null,"message_id": string,"next_attempt_at": string,"payload": NonNullable<Json>,"status": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempt"?: number,"completed_at"?: string | null,"created_at"?: string,"endpoint_id": string,"event": string,"id"?: never,"lease_until"?: string | null,"message_id": string,"next_attempt_at"?: string,"payload": NonNullable<Json>,"status"?: string,"user_id": string
                  }
                  Update: {
                    "attempt"?: number,"completed_at"?: string | null,"created_at"?: string,"endpoint_id"?: string,"event"?: string,"id"?: never,"lease_until"?: string | null,"message_id"?: string,"next_attempt_at"?: string,"payload"?: NonNullable<Json>,"status"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "webhook_deliveries_endpoint_id_fkey"
      columns: ["endpoint_id"]
isOneToOne: false
      referencedRelation: "webhook_endpoints"
      referencedColumns: ["id"]
    }
                  ]
                },"webhook_endpoints": {
                  Row: {
                    "created_at": string,"description": string,"events": (string)[],"id": string,"rotated_at": string | null,"secret": string,"url": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"description"?: string,"events": (string)[],"id"?: string,"rotated_at"?: string | null,"secret": string,"url": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"description"?: string,"events"?: (string)[],"id"?: string,"rotated_at"?: string | null,"secret"?: string,"url"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"welcome_grants": {
                  Row: {
                    "granted_at": string,"mailbox": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "granted_at"?: string,"mailbox": string,"user_id"?: string | null
                  }
                  Update: {
                    "granted_at"?: string,"mailbox"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "admit":
{ Args: { "p_user_id": string }; Returns: undefined
                           },
"api_key_owner":
{ Args: { "p_secret_hash": string }; Returns: Record<string, unknown>
                           },
"await_provider":
{ Args: { "p_lease_token": string,"p_provider": string,"p_provider_task_id": string,"p_task_id": number }; Returns: boolean
                           },
"begin_submission":
{ Args: { "p_lease_token": string,"p_provider": string,"p_task_id": number }; Returns: boolean
                           },
"cache_forget":
{ Args: { "p_key": string,"p_kind": string,"p_user_id": string }; Returns: undefined
                           },
"cache_get":
{ Args: { "p_key": string,"p_kind": string,"p_user_id": string }; Returns: Record<string, unknown>
                           },
"cache_put":
{ Args: { "p_facts": Json,"p_key": string,"p_kind": string,"p_path": string,"p_user_id": string }; Returns: undefined
                           },
"capacity_available":
{ Args: { "p_key": string }; Returns: number
                           },
"capacity_free_at":
{ Args: { "p_key": string }; Returns: string
                           },
"claim_asset_conversion":
{ Args: { "p_lease": string }; Returns: {
              "asset_id": string,"mime": string,"path": string
            }[]
                           },
"claim_webhook_deliveries":
{ Args: { "p_limit"?: number }; Returns: {
              "attempt": number,"delivery_id": number,"message_id": string,"payload": Json,"secret": string,"url": string
            }[]
                           },
"complete_run":
{ Args: { "p_generation_id": string }; Returns: undefined
                           },
"complete_task":
{ Args: { "p_output": Json,"p_task_id": number,"p_token": string }; Returns: boolean
                           },
"consume_wakeup":
{ Args: { "p_handler": string }; Returns: undefined
                           },
"credit_back":
{ Args: { "p_credits": number,"p_user_id": string }; Returns: undefined
                           },
"dep_applies":
{ Args: { "p_dep": Omit<Database["engine"]['Tables']["flow_deps"]['Row'], Database["engine"]['Tables']["flow_deps"]['ComputedFields']>,"p_inputs": Json }; Returns: boolean
                           },
"dispatch_polls":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"dispatch_webhooks":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"enqueue_webhooks":
{ Args: { "p_data": Json,"p_event": string,"p_user_id": string }; Returns: undefined
                           },
"estimate_waits":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"fail_task":
{ Args: { "p_code": string,"p_message": string,"p_task_id": number,"p_token": string }; Returns: boolean
                           },
"finish_asset_conversion":
{ Args: { "p_asset_id": string,"p_duration_seconds": number,"p_error": string,"p_path": string,"p_sha256": string,"p_size_bytes": number }; Returns: boolean
                           },
"finish_step":
{ Args: { "p_generation_id": string,"p_output": Json,"p_status": string,"p_step": string }; Returns: undefined
                           },
"finish_webhook_attempt":
{ Args: { "p_attempt": number,"p_delivery_id": number,"p_duration_ms": number,"p_error": string,"p_ok": boolean,"p_response_status": number }; Returns: string
                           },
"functions_endpoint":
{ Args: { "p_function": string }; Returns: Record<string, unknown>
                           },
"grant_welcome":
{ Args: { "p_email": string,"p_user_id": string }; Returns: undefined
                           },
"heartbeat":
{ Args: { "p_lease_token": string,"p_task_id": number }; Returns: boolean
                           },
"insert_tasks":
{ Args: { "p_elements": Json,"p_first": number,"p_run": Omit<Database["public"]['Tables']["generations"]['Row'], Database["public"]['Tables']["generations"]['ComputedFields']>,"p_step": Omit<Database["engine"]['Tables']["flow_steps"]['Row'], Database["engine"]['Tables']["flow_steps"]['ComputedFields']> }; Returns: undefined
                           },
"mailbox":
{ Args: { "p_email": string }; Returns: string
                           },
"movie_segments":
{ Args: { "p_generation_id": string }; Returns: {
              "attempt": number,"duration": number,"error_code": string,"error_message": string,"progress": number,"scene_id": string,"status": string,"task_index": number,"video_path": string
            }[]
                           },
"movie_status":
{ Args: { "p_status": Database["public"]['Enums']["generation_status"],"p_step": string }; Returns: string
                           },
"next_due":
{ Args: { "p_handler": string }; Returns: string
                           },
"post_to_function":
{ Args: { "p_body": Json,"p_function": string }; Returns: number
                           },
"provider_calls_back":
{ Args: { "p_provider": string }; Returns: boolean
                           },
"reconcile":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"record_provider_outcome":
{ Args: { "p_ok": boolean,"p_task_id": number }; Returns: undefined
                           },
"refresh_progress":
{ Args: { "p_generation_id": string }; Returns: undefined
                           },
"refund_task":
{ Args: { "p_task": Omit<Database["engine"]['Tables']["tasks"]['Row'], Database["engine"]['Tables']["tasks"]['ComputedFields']> }; Returns: undefined
                           },
"release_round":
{ Args: { "p_generation_id": string }; Returns: undefined
                           },
"reopen_tasks":
{ Args: { "p_generation_id": string,"p_indexes": (number)[],"p_step": string }; Returns: undefined
                           },
"report_provider_progress":
{ Args: { "p_progress": number,"p_provider_task_id": string,"p_task_id": number }; Returns: boolean
                           },
"requeue_rate_limited":
{ Args: { "p_lease_token": string,"p_message": string,"p_retry_after_ms"?: number,"p_task_id": number }; Returns: string
                           },
"reserve_credits":
{ Args: { "p_credits": number,"p_generation_id": string,"p_round": number,"p_user_id": string }; Returns: undefined
                           },
"retry_task":
{ Args: { "p_code": string,"p_lease_token": string,"p_message": string,"p_retry_after_ms"?: number,"p_task_id": number }; Returns: string
                           },
"settings":
{ Args: Record<PropertyKey, never>; Returns: {
              "api_burst": number,
"api_requests_per_minute": number,
"capacity_scale": number,
"circuit_failures": number,
"circuit_open_for": string,
"failover": boolean,
"first_poll_after": string,
"free_calls_per_day": number,
"generation_timeout": string,
"id": boolean,
"max_active_generations_per_user": number,
"max_api_keys_per_user": number,
"max_poll_interval": string,
"poll_batch_size": number,
"redispatch_after": string,
"storage_quota_bytes": number,
"submission_adopt_window": string,
"wake_coalesce": string,
"webhook_recheck_interval": string,
"webhook_retry_scale": number,
"welcome_credits": number
            }
                          SetofOptions: {
        from: "*"
        to: "settings"
        isOneToOne: true
        isSetofReturn: false
      } },
"settle_paid_call":
{ Args: { "p_call_id": string,"p_succeeded": boolean }; Returns: undefined
                           },
"start_ready_steps":
{ Args: { "p_generation_id": string }; Returns: undefined
                           },
"start_run":
{ Args: { "p_generation_id": string }; Returns: undefined
                           },
"start_tasks":
{ Args: { "p_handler": string,"p_limit"?: number }; Returns: {
              "attempt": number,"capacity_key": string,"deps": Json,"element": Json,"generation_id": string,"inputs": Json,"lease_token": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"step": string,"task_id": number,"task_index": number,"user_id": string,"webhook_token": string
            }[]
                           },
"storage_quota_refusal":
{ Args: { "p_used_bytes": number }; Returns: string
                           },
"storage_upload_refusal":
{ Args: { "p_used_bytes": number,"p_user_id": string }; Returns: string
                           },
"take_api_request":
{ Args: { "p_user_id": string }; Returns: Record<string, unknown>
                           },
"task_progress":
{ Args: { "p_provider_progress": number,"p_status": Database["public"]['Enums']["task_status"] }; Returns: number
                           },
"unpaid_credits":
{ Args: { "p_generation_id": string }; Returns: number
                           },
"wake":
{ Args: { "p_handler": string }; Returns: undefined
                           },
"webhook_backoff":
{ Args: { "p_attempt": number }; Returns: string
                           },
"webhook_deliveries_per_user":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"webhook_task":
{ Args: { "p_provider": string,"p_provider_task_id": string,"p_webhook_token": string }; Returns: {
              "provider": string,"provider_task_id": string,"task_id": number
            }[]
                           }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        },"public": {
          Tables: {
            "assets": {
                  Row: {
                    "created_at": string,"duration_seconds": number | null,"error": string | null,"height": number | null,"id": string,"mime": string,"name": string,"path": string,"sha256": string,"size_bytes": number,"status": Database["public"]['Enums']["asset_status"],"tags": (string)[],"type": Database["public"]['Enums']["asset_type"],"user_id": string,"width": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"duration_seconds"?: number | null,"error"?: string | null,"height"?: number | null,"id"?: string,"mime": string,"name": string,"path": string,"sha256": string,"size_bytes": number,"status"?: Database["public"]['Enums']["asset_status"],"tags"?: (string)[],"type": Database["public"]['Enums']["asset_type"],"user_id": string,"width"?: number | null
                  }
                  Update: {
                    "created_at"?: string,"duration_seconds"?: number | null,"error"?: string | null,"height"?: number | null,"id"?: string,"mime"?: string,"name"?: string,"path"?: string,"sha256"?: string,"size_bytes"?: number,"status"?: Database["public"]['Enums']["asset_status"],"tags"?: (string)[],"type"?: Database["public"]['Enums']["asset_type"],"user_id"?: string,"width"?: number | null
                  }
                  Relationships: [
                    
                  ]
                },"characters": {
                  Row: {
                    "created_at": string,"id": string,"name": string,"reference_image_path": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"name": string,"reference_image_path": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"name"?: string,"reference_image_path"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"credit_accounts": {
                  Row: {
                    "balance": number,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "balance"?: number,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "balance"?: number,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"credit_ledger": {
                  Row: {
                    "amount": number,"billing_round": number | null,"call_id": string | null,"created_at": string,"generation_id": string | null,"id": number,"kind": Database["public"]['Enums']["ledger_kind"],"reason": string | null,"step": string | null,"task_index": number | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "amount": number,"billing_round"?: number | null,"call_id"?: string | null,"created_at"?: string,"generation_id"?: string | null,"id"?: never,"kind": Database["public"]['Enums']["ledger_kind"],"reason"?: string | null,"step"?: string | null,"task_index"?: number | null,"user_id": string
                  }
                  Update: {
                    "amount"?: number,"billing_round"?: number | null,"call_id"?: string | null,"created_at"?: string,"generation_id"?: string | null,"id"?: never,"kind"?: Database["public"]['Enums']["ledger_kind"],"reason"?: string | null,"step"?: string | null,"task_index"?: number | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "credit_ledger_generation_id_fkey"
      columns: ["generation_id"]
isOneToOne: false
      referencedRelation: "generations"
      referencedColumns: ["id"]
    }
                  ]
                },"generation_batches": {
                  Row: {
                    "created_at": string,"id": string,"parallel": boolean,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"parallel"?: boolean,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"parallel"?: boolean,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"generation_events": {
                  Row: {
                    "attempt": number,"created_at": string,"generation_id": string,"id": number,"message": string | null,"progress": number,"status": string,"step": string | null,"task_index": number | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempt"?: number,"created_at"?: string,"generation_id": string,"id"?: never,"message"?: string | null,"progress": number,"status": string,"step"?: string | null,"task_index"?: number | null,"user_id": string
                  }
                  Update: {
                    "attempt"?: number,"created_at"?: string,"generation_id"?: string,"id"?: never,"message"?: string | null,"progress"?: number,"status"?: string,"step"?: string | null,"task_index"?: number | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "generation_events_generation_id_fkey"
      columns: ["generation_id"]
isOneToOne: false
      referencedRelation: "generations"
      referencedColumns: ["id"]
    }
                  ]
                },"generations": {
                  Row: {
                    "batch_id": string | null,"billing_round": number,"completed_at": string | null,"created_at": string,"credits_charged": number,"credits_refunded": number,"credits_reserved": number,"deadline": string | null,"error_code": string | null,"error_message": string | null,"eta_seconds": number | null,"id": string,"idempotency_key": string | null,"inputs": NonNullable<Json>,"outputs": NonNullable<Json>,"pipeline": Database["public"]['Enums']["pipeline_kind"],"price_plan": NonNullable<Json>,"progress": number,"progress_revision": number,"remaining_steps": number,"request_fingerprint": string | null,"started_at": string | null,"status": Database["public"]['Enums']["generation_status"],"step": string | null,"updated_at": string,"user_id": string,"visibility": string
                  }
                  ComputedFields: never
                  Insert: {
                    "batch_id"?: string | null,"billing_round"?: number,"completed_at"?: string | null,"created_at"?: string,"credits_charged"?: number,"credits_refunded"?: number,"credits_reserved": number,"deadline"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"eta_seconds"?: number | null,"id"?: string,"idempotency_key"?: string | null,"inputs": NonNullable<Json>,"outputs"?: NonNullable<Json>,"pipeline": Database["public"]['Enums']["pipeline_kind"],"price_plan": NonNullable<Json>,"progress"?: number,"progress_revision"?: number,"remaining_steps"?: number,"request_fingerprint"?: string | null,"started_at"?: string | null,"status"?: Database["public"]['Enums']["generation_status"],"step"?: string | null,"updated_at"?: string,"user_id": string,"visibility"?: string
                  }
                  Update: {
                    "batch_id"?: string | null,"billing_round"?: number,"completed_at"?: string | null,"created_at"?: string,"credits_charged"?: number,"credits_refunded"?: number,"credits_reserved"?: number,"deadline"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"eta_seconds"?: number | null,"id"?: string,"idempotency_key"?: string | null,"inputs"?: NonNullable<Json>,"outputs"?: NonNullable<Json>,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"price_plan"?: NonNullable<Json>,"progress"?: number,"progress_revision"?: number,"remaining_steps"?: number,"request_fingerprint"?: string | null,"started_at"?: string | null,"status"?: Database["public"]['Enums']["generation_status"],"step"?: string | null,"updated_at"?: string,"user_id"?: string,"visibility"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "generations_batch_id_fkey"
      columns: ["batch_id"]
isOneToOne: false
      referencedRelation: "generation_batches"
      referencedColumns: ["id"]
    }
                  ]
                },"movie_templates": {
                  Row: {
                    "created_at": string,"description": string,"id": string,"name": string,"slug": string,"spec": NonNullable<Json>,"updated_at": string,"user_id": string | null,"variables": NonNullable<Json>
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"description"?: string,"id"?: string,"name": string,"slug": string,"spec": NonNullable<Json>,"updated_at"?: string,"user_id"?: string | null,"variables"?: NonNullable<Json>
                  }
                  Update: {
                    "created_at"?: string,"description"?: string,"id"?: string,"name"?: string,"slug"?: string,"spec"?: NonNullable<Json>,"updated_at"?: string,"user_id"?: string | null,"variables"?: NonNullable<Json>
                  }
                  Relationships: [
                    
                  ]
                },"price_list": {
                  Row: {
                    "credits": number,"label": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"sku": string
                  }
                  ComputedFields: never
                  Insert: {
                    "credits": number,"label": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"sku": string
                  }
                  Update: {
                    "credits"?: number,"label"?: string,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"sku"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "grant_credits":
{ Args: { "p_credits": number,"p_user_id": string }; Returns: number
                           },
"price_lines":
{ Args: { "p_inputs": Json,"p_pipeline": Database["public"]['Enums']["pipeline_kind"] }; Returns: {
              "sku": string,"step": string,"task_index": number
            }[]
                           },
"price_quote":
{ Args: { "p_inputs": Json,"p_pipeline": Database["public"]['Enums']["pipeline_kind"] }; Returns: Record<string, unknown>
                           },
"public_gallery":
{ Args: { "p_after_id"?: string,"p_limit"?: number,"p_pipeline"?: Database["public"]['Enums']["pipeline_kind"] }; Returns: {
              "completed_at": string,"id": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poster_path": string,"video_path": string
            }[]
                           }
          }
          Enums: {
            "asset_status": "processing"|"ready"|"failed","asset_type": "image"|"audio"|"video","generation_status": "queued"|"running"|"completed"|"failed"|"canceled","ledger_kind": "grant"|"reserve"|"capture"|"refund"|"release","pipeline_kind": "cinematic"|"model_direct"|"movie","task_status": "queued"|"running"|"waiting"|"completed"|"failed"|"canceled"
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "engine": {
          Enums: {
            
          }
        },"public": {
          Enums: {
            "asset_status": ["processing", "ready", "failed"],"asset_type": ["image", "audio", "video"],"generation_status": ["queued", "running", "completed", "failed", "canceled"],"ledger_kind": ["grant", "reserve", "capture", "refund", "release"],"pipeline_kind": ["cinematic", "model_direct", "movie"],"task_status": ["queued", "running", "waiting", "completed", "failed", "canceled"]
          }
        }
} as const
