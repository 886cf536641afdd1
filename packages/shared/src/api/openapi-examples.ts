// Real answers of the API, as the OpenAPI document's examples (written by tests/openapi-examples.test.ts
// with UPDATE_OPENAPI_EXAMPLES=1; keyed by "method path" as documented, plus the error envelope).
export const EXAMPLES: Record<string, unknown> = {
  "post /quote": {
    "estimated_credits": 185,
    "explain": "script 5 MC + base image 20 MC + 5 s video 160 MC = 185 MC"
  },
  "post /generations": {
    "generation": {
      "id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
      "pipeline": "cinematic",
      "status": "processing",
      "step": "script",
      "progress": 0,
      "progress_revision": 2,
      "phase": "script",
      "phase_label": "Writing the script",
      "eta_seconds": null,
      "queue_position": null,
      "inputs": {
        "idea": "a paper boat on a pond",
        "duration": 5,
        "aspect_ratio": "9:16"
      },
      "script": null,
      "video_url": null,
      "base_image_url": null,
      "merged_image_url": null,
      "error": null,
      "credits": {
        "reserved": 185,
        "charged": 0,
        "refunded": 0
      },
      "visibility": "private",
      "created_at": "2026-12-07T03:35:55.273Z",
      "updated_at": "2026-12-07T03:35:55.267Z",
      "completed_at": null
    }
  },
  "get /generations/{id}": {
    "generation": {
      "id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
      "pipeline": "cinematic",
      "status": "processing",
      "step": "script",
      "progress": 0,
      "progress_revision": 2,
      "phase": "script",
      "phase_label": "Writing the script",
      "eta_seconds": null,
      "queue_position": null,
      "inputs": {
        "idea": "a paper boat on a pond",
        "duration": 5,
        "aspect_ratio": "9:16"
      },
      "script": null,
      "video_url": null,
      "base_image_url": null,
      "merged_image_url": null,
      "error": null,
      "credits": {
        "reserved": 185,
        "charged": 0,
        "refunded": 0
      },
      "visibility": "private",
      "created_at": "2026-12-07T03:35:55.273Z",
      "updated_at": "2026-12-07T03:35:55.267Z",
      "completed_at": null,
      "tasks": [
        {
          "step": "script",
          "task_index": 0,
          "status": "queued",
          "attempt": 0,
          "waiting_for": null,
          "progress": 0,
          "error_code": null
        }
      ]
    },
    "events": [
      {
        "status": "queued",
        "step": null,
        "task_index": null,
        "attempt": 0,
        "progress": 0,
        "message": null,
        "created_at": "2026-12-07T03:35:55.267Z"
      },
      {
        "status": "processing",
        "step": null,
        "task_index": null,
        "attempt": 0,
        "progress": 0,
        "message": null,
        "created_at": "2026-12-07T03:35:55.267Z"
      },
      {
        "status": "queued",
        "step": "script",
        "task_index": 0,
        "attempt": 0,
        "progress": 0,
        "message": null,
        "created_at": "2026-12-07T03:35:55.267Z"
      }
    ]
  },
  "get /generations": {
    "generations": [
      {
        "id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
        "pipeline": "cinematic",
        "status": "processing",
        "step": "script",
        "progress": 0,
        "progress_revision": 2,
        "phase": "script",
        "phase_label": "Writing the script",
        "eta_seconds": null,
        "queue_position": null,
        "inputs": {
          "idea": "a paper boat on a pond",
          "duration": 5,
          "aspect_ratio": "9:16"
        },
        "script": null,
        "video_url": null,
        "base_image_url": null,
        "merged_image_url": null,
        "error": null,
        "credits": {
          "reserved": 180,
          "charged": 5,
          "refunded": 0
        },
        "visibility": "private",
        "created_at": "2026-12-07T03:35:55.273Z",
        "updated_at": "2026-12-07T03:35:55.335Z",
        "completed_at": null
      }
    ],
    "next_cursor": null
  },
  "get /generation/status/{id}": {
    "uuid": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
    "status": "processing",
    "state": "processing",
    "progress": 0,
    "results": [],
    "error_message": null,
    "credits_used": 5
  },
  "post /generations/{id}/cancel": {
    "generation": {
      "id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
      "pipeline": "cinematic",
      "status": "canceled",
      "step": "base_image",
      "progress": 5,
      "progress_revision": 5,
      "phase": "canceled",
      "phase_label": "Canceled",
      "eta_seconds": 0,
      "queue_position": null,
      "inputs": {
        "idea": "a paper boat on a pond",
        "duration": 5,
        "aspect_ratio": "9:16"
      },
      "script": {
        "concept": "A vertical cinematic short about a paper boat on a pond.",
        "t2i_prompt": "cinematic portrait, a paper boat on a pond, golden hour, shallow depth of field, 35mm film look, 8k",
        "motion_prompt": "slow dolly-in toward the subject, gentle parallax, hair and fabric moving in the wind",
        "visual_script": "Open on a wide establishing shot; slow push-in on the subject of \"a paper boat on a pond\"; golden-hour light; end on a close-up."
      },
      "video_url": null,
      "base_image_url": null,
      "merged_image_url": null,
      "error": null,
      "credits": {
        "reserved": 0,
        "charged": 5,
        "refunded": 0
      },
      "visibility": "private",
      "created_at": "2026-12-07T03:35:55.273Z",
      "updated_at": "2026-12-07T03:35:55.384Z",
      "completed_at": null
    }
  },
  "get /credits": {
    "balance": 1995,
    "reserved": 0,
    "ledger": [
      {
        "id": "6",
        "kind": "release",
        "amount": 180,
        "generation_id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
        "step": null,
        "task_index": null,
        "reason": null,
        "created_at": "2026-12-07T03:35:55.384Z"
      },
      {
        "id": "5",
        "kind": "capture",
        "amount": 5,
        "generation_id": "0e162f4f-29b5-466b-bea8-51505b7ba1f5",
        "step": "script",
        "task_index": 0,
        "reason": null,
        "created_at": "2026-12-07T03:35:55.335Z"
      }
    ],
    "next_cursor": "NQ"
  },
  "post /video/quote": {
    "estimatedCredits": 160,
    "explain": "1080p 5 s segment 150 MC + merge 10 MC = 160 MC"
  },
  "post /video/generate": {
    "taskId": "5df951fb-d429-4064-addd-cb9c45b3630f",
    "projectName": "example",
    "status": "processing",
    "estimatedTime": 135,
    "segments": [
      {
        "id": "scene1",
        "status": "queued",
        "progress": 0
      }
    ],
    "credits": 160,
    "createdAt": "2026-12-07T03:35:55.473Z"
  },
  "get /task/{id}": {
    "taskId": "5df951fb-d429-4064-addd-cb9c45b3630f",
    "projectName": "example",
    "status": "processing",
    "progress": 0,
    "currentPhase": "generating_segments",
    "phaseLabel": "Generating the scenes",
    "estimatedTimeLeft": null,
    "progressRevision": 3,
    "segments": [
      {
        "id": "scene1",
        "status": "queued",
        "progress": 0,
        "attempt": 0,
        "videoUrl": null,
        "duration": null,
        "error": null
      }
    ],
    "videoUrl": null,
    "posterUrl": null,
    "duration": null,
    "error": null,
    "credits": {
      "reserved": 160,
      "charged": 0,
      "refunded": 0
    },
    "logs": [
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Task queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Task processing"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Merge queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Scene scene1 queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.504Z",
        "level": "info",
        "message": "Merge started"
      }
    ],
    "metrics": {
      "polls": 0,
      "phases": {},
      "credits": {
        "charged": 0,
        "refunded": 0,
        "reserved": 160
      },
      "retries": 0,
      "cacheHits": 0,
      "totalSeconds": 0.06,
      "providerCalls": 0,
      "queuedSeconds": 0
    },
    "batchId": null,
    "createdAt": "2026-12-07T03:35:55.473Z",
    "updatedAt": "2026-12-07T03:35:55.467Z",
    "completedAt": null
  },
  "delete /task/{id}": {
    "taskId": "5df951fb-d429-4064-addd-cb9c45b3630f",
    "projectName": "example",
    "status": "canceled",
    "progress": 0,
    "currentPhase": "canceled",
    "phaseLabel": "Canceled",
    "estimatedTimeLeft": 0,
    "progressRevision": 4,
    "segments": [
      {
        "id": "scene1",
        "status": "canceled",
        "progress": 0,
        "attempt": 1,
        "videoUrl": null,
        "duration": null,
        "error": null
      }
    ],
    "videoUrl": null,
    "posterUrl": null,
    "duration": null,
    "error": null,
    "credits": {
      "reserved": 0,
      "charged": 150,
      "refunded": 0
    },
    "logs": [
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Task queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Task processing"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Merge queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.467Z",
        "level": "info",
        "message": "Scene scene1 queued"
      },
      {
        "timestamp": "2026-12-07T03:35:55.504Z",
        "level": "info",
        "message": "Merge started"
      },
      {
        "timestamp": "2026-12-07T03:35:55.511Z",
        "level": "info",
        "message": "Scene scene1 started"
      },
      {
        "timestamp": "2026-12-07T03:35:55.574Z",
        "level": "info",
        "message": "Merge canceled: Canceled by the user"
      },
      {
        "timestamp": "2026-12-07T03:35:55.574Z",
        "level": "info",
        "message": "Scene scene1 canceled: Canceled by the user"
      },
      {
        "timestamp": "2026-12-07T03:35:55.574Z",
        "level": "info",
        "message": "Task canceled: Canceled by the user"
      }
    ],
    "metrics": {
      "polls": 0,
      "phases": {},
      "credits": {
        "charged": 150,
        "refunded": 0,
        "reserved": 160
      },
      "retries": 0,
      "cacheHits": 0,
      "totalSeconds": 0.13,
      "providerCalls": 1,
      "queuedSeconds": 0
    },
    "batchId": null,
    "createdAt": "2026-12-07T03:35:55.473Z",
    "updatedAt": "2026-12-07T03:35:55.574Z",
    "completedAt": null
  },
  "error": {
    "error": {
      "code": "NOT_FOUND",
      "message": "Generation not found",
      "details": null,
      "requestId": "6b8c50e5-0d05-4cbc-805a-d48cd0dee7b8",
      "timestamp": "2026-12-07T03:35:55.628Z"
    }
  }
};
