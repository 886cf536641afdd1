
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "characters": {
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
                    "amount": number,"billing_round": number | null,"created_at": string,"generation_id": string | null,"id": number,"kind": Database["public"]['Enums']["ledger_kind"],"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "amount": number,"billing_round"?: number | null,"created_at"?: string,"generation_id"?: string | null,"id"?: never,"kind": Database["public"]['Enums']["ledger_kind"],"user_id": string
                  }
                  Update: {
                    "amount"?: number,"billing_round"?: number | null,"created_at"?: string,"generation_id"?: string | null,"id"?: never,"kind"?: Database["public"]['Enums']["ledger_kind"],"user_id"?: string
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
                },"generation_events": {
                  Row: {
                    "attempt": number,"created_at": string,"generation_id": string,"id": number,"message": string | null,"progress": number,"status": Database["public"]['Enums']["generation_status"],"step": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempt": number,"created_at"?: string,"generation_id": string,"id"?: never,"message"?: string | null,"progress": number,"status": Database["public"]['Enums']["generation_status"],"step": string,"user_id": string
                  }
                  Update: {
                    "attempt"?: number,"created_at"?: string,"generation_id"?: string,"id"?: never,"message"?: string | null,"progress"?: number,"status"?: Database["public"]['Enums']["generation_status"],"step"?: string,"user_id"?: string
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
                    "attempt": number,"billing_round": number,"completed_at": string | null,"created_at": string,"credits_charged": number,"credits_reserved": number,"deadline": string,"dispatch_count": number,"dispatched_at": string | null,"error_code": string | null,"error_message": string | null,"id": string,"idempotency_key": string | null,"inputs": NonNullable<Json>,"lease_token": string | null,"lease_until": string | null,"next_attempt_at": string,"next_poll_at": string | null,"outputs": NonNullable<Json>,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_count": number,"progress": number,"provider": string | null,"provider_task_id": string | null,"status": Database["public"]['Enums']["generation_status"],"step": string,"updated_at": string,"user_id": string,"visibility": string,"wake_at": string | null,"webhook_token": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempt"?: number,"billing_round"?: number,"completed_at"?: string | null,"created_at"?: string,"credits_charged"?: number,"credits_reserved": number,"deadline"?: string,"dispatch_count"?: number,"dispatched_at"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"idempotency_key"?: string | null,"inputs": NonNullable<Json>,"lease_token"?: string | null,"lease_until"?: string | null,"next_attempt_at"?: string,"next_poll_at"?: string | null,"outputs"?: NonNullable<Json>,"pipeline": Database["public"]['Enums']["pipeline_kind"],"poll_count"?: number,"progress"?: number,"provider"?: string | null,"provider_task_id"?: string | null,"status"?: Database["public"]['Enums']["generation_status"],"step": string,"updated_at"?: string,"user_id": string,"visibility"?: string,"wake_at"?: string | null,"webhook_token"?: string
                  }
                  Update: {
                    "attempt"?: number,"billing_round"?: number,"completed_at"?: string | null,"created_at"?: string,"credits_charged"?: number,"credits_reserved"?: number,"deadline"?: string,"dispatch_count"?: number,"dispatched_at"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"idempotency_key"?: string | null,"inputs"?: NonNullable<Json>,"lease_token"?: string | null,"lease_until"?: string | null,"next_attempt_at"?: string,"next_poll_at"?: string | null,"outputs"?: NonNullable<Json>,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"poll_count"?: number,"progress"?: number,"provider"?: string | null,"provider_task_id"?: string | null,"status"?: Database["public"]['Enums']["generation_status"],"step"?: string,"updated_at"?: string,"user_id"?: string,"visibility"?: string,"wake_at"?: string | null,"webhook_token"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "generations_pipeline_step_fkey"
      columns: ["pipeline","step"]
isOneToOne: false
      referencedRelation: "pipeline_steps"
      referencedColumns: ["pipeline","step"]
    }
                  ]
                },"pipeline_steps": {
                  Row: {
                    "base_delay_ms": number,"function_name": string,"is_final": boolean,"lease_seconds": number,"max_attempts": number,"max_delay_ms": number,"pipeline": Database["public"]['Enums']["pipeline_kind"],"progress": number,"step": string
                  }
                  ComputedFields: never
                  Insert: {
                    "base_delay_ms"?: number,"function_name": string,"is_final"?: boolean,"lease_seconds"?: number,"max_attempts"?: number,"max_delay_ms"?: number,"pipeline": Database["public"]['Enums']["pipeline_kind"],"progress": number,"step": string
                  }
                  Update: {
                    "base_delay_ms"?: number,"function_name"?: string,"is_final"?: boolean,"lease_seconds"?: number,"max_attempts"?: number,"max_delay_ms"?: number,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"progress"?: number,"step"?: string
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
                },"step_transitions": {
                  Row: {
                    "from_step": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"to_step": string
                  }
                  ComputedFields: never
                  Insert: {
                    "from_step": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"to_step": string
                  }
                  Update: {
                    "from_step"?: string,"pipeline"?: Database["public"]['Enums']["pipeline_kind"],"to_step"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "step_transitions_pipeline_from_step_fkey"
      columns: ["pipeline","from_step"]
isOneToOne: false
      referencedRelation: "pipeline_steps"
      referencedColumns: ["pipeline","step"]
    },{
      foreignKeyName: "step_transitions_pipeline_to_step_fkey"
      columns: ["pipeline","to_step"]
isOneToOne: false
      referencedRelation: "pipeline_steps"
      referencedColumns: ["pipeline","step"]
    }
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "await_task":
{ Args: { "p_generation_id": string,"p_lease_token": string,"p_outputs"?: Json,"p_provider": string,"p_task_id": string }; Returns: boolean
                           },
"cancel_generation":
{ Args: { "p_generation_id": string }; Returns: {
              "attempt": number,
"billing_round": number,
"completed_at": string | null,
"created_at": string,
"credits_charged": number,
"credits_reserved": number,
"deadline": string,
"dispatch_count": number,
"dispatched_at": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"idempotency_key": string | null,
"inputs": NonNullable<Json>,
"lease_token": string | null,
"lease_until": string | null,
"next_attempt_at": string,
"next_poll_at": string | null,
"outputs": NonNullable<Json>,
"pipeline": Database["public"]['Enums']["pipeline_kind"],
"poll_count": number,
"progress": number,
"provider": string | null,
"provider_task_id": string | null,
"status": Database["public"]['Enums']["generation_status"],
"step": string,
"updated_at": string,
"user_id": string,
"visibility": string,
"wake_at": string | null,
"webhook_token": string
            }
                          SetofOptions: {
        from: "*"
        to: "generations"
        isOneToOne: true
        isSetofReturn: false
      } },
"claim_step":
{ Args: { "p_generation_id": string,"p_step": string }; Returns: {
              "attempt": number,"generation_id": string,"inputs": Json,"lease_token": string,"outputs": Json,"pipeline": Database["public"]['Enums']["pipeline_kind"],"user_id": string,"webhook_token": string
            }[]
                           },
"complete_step":
{ Args: { "p_generation_id": string,"p_lease_token": string,"p_next_step"?: string,"p_outputs": Json }; Returns: boolean
                           },
"create_character":
{ Args: { "p_name": string,"p_reference_image_path": string }; Returns: {
              "created_at": string,
"id": string,
"name": string,
"reference_image_path": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "characters"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_generation":
{ Args: { "p_idempotency_key"?: string,"p_inputs": Json,"p_pipeline": Database["public"]['Enums']["pipeline_kind"],"p_visibility"?: string }; Returns: {
              "attempt": number,
"billing_round": number,
"completed_at": string | null,
"created_at": string,
"credits_charged": number,
"credits_reserved": number,
"deadline": string,
"dispatch_count": number,
"dispatched_at": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"idempotency_key": string | null,
"inputs": NonNullable<Json>,
"lease_token": string | null,
"lease_until": string | null,
"next_attempt_at": string,
"next_poll_at": string | null,
"outputs": NonNullable<Json>,
"pipeline": Database["public"]['Enums']["pipeline_kind"],
"poll_count": number,
"progress": number,
"provider": string | null,
"provider_task_id": string | null,
"status": Database["public"]['Enums']["generation_status"],
"step": string,
"updated_at": string,
"user_id": string,
"visibility": string,
"wake_at": string | null,
"webhook_token": string
            }
                          SetofOptions: {
        from: "*"
        to: "generations"
        isOneToOne: true
        isSetofReturn: false
      } },
"fail_step":
{ Args: { "p_code": string,"p_generation_id": string,"p_lease_token": string,"p_message": string }; Returns: boolean
                           },
"fail_task":
{ Args: { "p_code": string,"p_generation_id": string,"p_message": string,"p_task_id": string }; Returns: boolean
                           },
"functions_endpoint":
{ Args: { "p_function": string }; Returns: Record<string, unknown>
                           },
"grant_credits":
{ Args: { "p_credits": number,"p_user_id": string }; Returns: number
                           },
"owned_generation":
{ Args: { "p_generation_id": string }; Returns: {
              "attempt": number,
"billing_round": number,
"completed_at": string | null,
"created_at": string,
"credits_charged": number,
"credits_reserved": number,
"deadline": string,
"dispatch_count": number,
"dispatched_at": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"idempotency_key": string | null,
"inputs": NonNullable<Json>,
"lease_token": string | null,
"lease_until": string | null,
"next_attempt_at": string,
"next_poll_at": string | null,
"outputs": NonNullable<Json>,
"pipeline": Database["public"]['Enums']["pipeline_kind"],
"poll_count": number,
"progress": number,
"provider": string | null,
"provider_task_id": string | null,
"status": Database["public"]['Enums']["generation_status"],
"step": string,
"updated_at": string,
"user_id": string,
"visibility": string,
"wake_at": string | null,
"webhook_token": string
            }
                          SetofOptions: {
        from: "*"
        to: "generations"
        isOneToOne: true
        isSetofReturn: false
      } },
"post_to_function":
{ Args: { "p_body": Json,"p_function": string }; Returns: number
                           },
"price_items":
{ Args: { "p_inputs": Json,"p_pipeline": Database["public"]['Enums']["pipeline_kind"] }; Returns: (string)[]
                           },
"price_quote":
{ Args: { "p_inputs": Json,"p_pipeline": Database["public"]['Enums']["pipeline_kind"] }; Returns: Record<string, unknown>
                           },
"public_gallery":
{ Args: { "p_before"?: string,"p_limit"?: number }; Returns: {
              "completed_at": string,"id": string,"pipeline": Database["public"]['Enums']["pipeline_kind"],"video_path": string
            }[]
                           },
"reconcile":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"report_task_progress":
{ Args: { "p_generation_id": string,"p_progress": number,"p_task_id": string }; Returns: boolean
                           },
"require_user":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"reserve_credits":
{ Args: { "p_credits": number,"p_generation_id": string,"p_round": number,"p_user_id": string }; Returns: undefined
                           },
"resolve_task":
{ Args: { "p_generation_id": string,"p_next_step": string,"p_outputs": Json,"p_task_id": string }; Returns: boolean
                           },
"retry_generation":
{ Args: { "p_generation_id": string }; Returns: {
              "attempt": number,
"billing_round": number,
"completed_at": string | null,
"created_at": string,
"credits_charged": number,
"credits_reserved": number,
"deadline": string,
"dispatch_count": number,
"dispatched_at": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"idempotency_key": string | null,
"inputs": NonNullable<Json>,
"lease_token": string | null,
"lease_until": string | null,
"next_attempt_at": string,
"next_poll_at": string | null,
"outputs": NonNullable<Json>,
"pipeline": Database["public"]['Enums']["pipeline_kind"],
"poll_count": number,
"progress": number,
"provider": string | null,
"provider_task_id": string | null,
"status": Database["public"]['Enums']["generation_status"],
"step": string,
"updated_at": string,
"user_id": string,
"visibility": string,
"wake_at": string | null,
"webhook_token": string
            }
                          SetofOptions: {
        from: "*"
        to: "generations"
        isOneToOne: true
        isSetofReturn: false
      } },
"schedule_poll":
{ Args: { "p_generation_id": string,"p_task_id": string }; Returns: boolean
                           },
"schedule_retry":
{ Args: { "p_code": string,"p_generation_id": string,"p_lease_token": string,"p_message": string,"p_retry_after_ms"?: number }; Returns: string
                           }
          }
          Enums: {
            "generation_status": "queued"|"running"|"waiting"|"completed"|"failed"|"canceled","ledger_kind": "grant"|"reserve"|"capture"|"release","pipeline_kind": "cinematic"|"model_direct"|"movie"
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
  "public": {
          Enums: {
            "generation_status": ["queued", "running", "waiting", "completed", "failed", "canceled"],"ledger_kind": ["grant", "reserve", "capture", "release"],"pipeline_kind": ["cinematic", "model_direct", "movie"]
          }
        }
} as const
