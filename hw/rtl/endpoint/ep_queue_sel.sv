`default_nettype none

// One queue's fields out of a virtio queue store kept as packed vectors (queue q in bits
// W*q+W-1:W*q), chosen with one compare per queue. A variable part-select (size_q[16*s+:16]) would
// cost Yosys a shifter per field and, on the write side, a case over every bit offset.
module ep_queue_sel #(
  parameter int unsigned Queues = 2,
  parameter int unsigned QW     = 1   // index bits
) (
  input  wire logic [QW-1:0]          idx_i,
  input  wire logic [16*Queues-1:0]   max_size_i,
  input  wire logic [16*Queues-1:0]   size_i,
  input  wire logic [16*Queues-1:0]   vector_i,
  input  wire logic [64*Queues-1:0]   desc_i,
  input  wire logic [64*Queues-1:0]   driver_i,
  input  wire logic [64*Queues-1:0]   device_i,
  input  wire logic [Queues-1:0]      enabled_i,
  input  wire logic [Queues-1:0]      reset_pending_i,
  output logic [15:0]                 max_size_o,
  output logic [15:0]                 size_o,
  output logic [15:0]                 vector_o,
  output logic [63:0]                 desc_o,
  output logic [63:0]                 driver_o,
  output logic [63:0]                 device_o,
  output logic                        enabled_o,
  output logic                        reset_pending_o
);

  always_comb begin
    {max_size_o, size_o, vector_o, desc_o, driver_o, device_o, enabled_o, reset_pending_o} = '0;
    for (int unsigned q = 0; q < Queues; q++) begin
      if (idx_i == QW'(q)) begin
        max_size_o      = max_size_i[16*q+:16];
        size_o          = size_i[16*q+:16];
        vector_o        = vector_i[16*q+:16];
        desc_o          = desc_i[64*q+:64];
        driver_o        = driver_i[64*q+:64];
        device_o        = device_i[64*q+:64];
        enabled_o       = enabled_i[q];
        reset_pending_o = reset_pending_i[q];
      end
    end
  end

endmodule

`default_nettype wire
