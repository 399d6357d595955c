`default_nettype none

// MSI-X delivery (MsixController in the model). A triggered vector sends its table message unless
// it or the function is masked, in which case its pending bit is set; clearing a vector's mask,
// clearing the function mask or enabling MSI-X releases pending messages. Nothing is sent or left
// pending while MSI-X is disabled; with bus mastering off a message is dropped. Messages leave one
// at a time on the MSI output, lowest vector first. The table's address and data are a RAM
// (msix_table's ram registers): the vector chosen is read through its hardware port, and the message
// leaves a clock later with what the table held then.
module ep_msix #(
  parameter int unsigned Vectors = 8  // at most 32
) (
  input  wire logic                    clk_i,
  input  wire logic                    rst_ni,
  input  wire logic                    trigger_i,        // firmware wrote msix_trigger
  input  wire logic [15:0]             trigger_vector_i,
  input  wire logic                    cfg_trigger_i,    // a config change with a config vector
  input  wire logic [15:0]             cfg_vector_i,
  input  wire logic                    clear_pending_i,  // device reset
  input  wire logic                    enable_i,         // message_control.enable
  input  wire logic                    function_mask_i,  // message_control.function_mask
  input  wire logic                    bus_master_i,     // command.bus_master
  output logic [4:0]                   table_raddr_o,    // the entry read, for the next clock
  input  wire logic [31:0]             addr_lo_i,        // the entry of the previous clock's table_raddr_o
  input  wire logic [31:0]             addr_hi_i,
  input  wire logic [31:0]             data_i,
  input  wire logic [31:0]             mask_i,
  output logic [63:0]                  pending_o,        // the PBA
  output logic                         msi_valid_o,
  input  wire logic                    msi_ready_i,
  output logic [63:0]                  msi_addr_o,
  output logic [31:0]                  msi_data_o
);

  localparam int unsigned VW = Vectors > 1 ? $clog2(Vectors) : 1;

  logic [VW-1:0]      tv, cv;  // the triggered vectors, once known to be in range
  assign tv = trigger_vector_i[VW-1:0];
  assign cv = cfg_vector_i[VW-1:0];

  logic [Vectors-1:0] pending_q, pending_d;
  logic [Vectors-1:0] send_q, send_d;  // messages waiting for the MSI output
  logic               enable_q, fmask_q;
  logic [Vectors-1:0] mask_q;
  logic               valid_q, valid_d;
  logic               fetch_q, fetch_d;  // the table read of the chosen vector is under way
  logic [63:0]        addr_q, addr_d;
  logic [31:0]        data_q, data_d;
  logic [Vectors-1:0] lowest;    // the lowest vector waiting
  logic               out_free;  // the MSI output can take a message this clock

  assign lowest   = send_q & (~send_q + 1'b1);
  assign out_free = !valid_q || msi_ready_i;

  always_comb begin
    pending_d = pending_q;
    send_d    = send_q;
    valid_d   = valid_q;
    fetch_d   = 1'b0;
    addr_d    = addr_q;
    data_d    = data_q;
    // Release on unmask: a vector's mask cleared, the function mask cleared, MSI-X enabled.
    for (int unsigned v = 0; v < Vectors; v++) begin
      if (pending_d[v] && enable_i && !function_mask_i && !mask_i[v] &&
          ((mask_q[v] && !mask_i[v]) || (fmask_q && !function_mask_i) || (!enable_q && enable_i))) begin
        pending_d[v] = 1'b0;
        send_d[v]    = 1'b1;
      end
    end
    if (trigger_i && trigger_vector_i < 16'(Vectors) && enable_i) begin
      if (function_mask_i || mask_i[5'(tv)]) pending_d[tv] = 1'b1;
      else send_d[tv] = 1'b1;
    end
    if (cfg_trigger_i && cfg_vector_i < 16'(Vectors) && enable_i) begin
      if (function_mask_i || mask_i[5'(cv)]) pending_d[cv] = 1'b1;
      else send_d[cv] = 1'b1;
    end
    if (clear_pending_i) pending_d = '0;
    // Once the output is free the lowest waiting vector is read from the table; a clock later its
    // message is on the output (dropped without bus mastering).
    if (out_free) valid_d = 1'b0;
    if (fetch_q) begin
      valid_d = bus_master_i;
      addr_d  = {addr_hi_i, addr_lo_i};
      data_d  = data_i;
    end else if (out_free && |send_q) begin
      send_d  = send_d & ~lowest;
      fetch_d = 1'b1;
    end
  end

  always_comb begin
    table_raddr_o = '0;
    for (int unsigned v = 0; v < Vectors; v++) begin
      if (lowest[v]) table_raddr_o = 5'(v);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pending_q <= '0;
      send_q    <= '0;
      enable_q  <= 1'b0;
      fmask_q   <= 1'b0;
      mask_q    <= '1;
      valid_q   <= 1'b0;
      fetch_q   <= 1'b0;
      addr_q    <= '0;
      data_q    <= '0;
    end else begin
      pending_q <= pending_d;
      send_q    <= send_d;
      enable_q  <= enable_i;
      fmask_q   <= function_mask_i;
      mask_q    <= mask_i[Vectors-1:0];
      valid_q   <= valid_d;
      fetch_q   <= fetch_d;
      addr_q    <= addr_d;
      data_q    <= data_d;
    end
  end

  assign pending_o   = 64'(pending_q);
  assign msi_valid_o = valid_q;
  assign msi_addr_o  = addr_q;
  assign msi_data_o  = data_q;

`ifndef SYNTHESIS
  // A pending bit is set only for a vector that is masked (itself or by the function mask).
  for (genvar v = 0; v < Vectors; v++) begin : gen_pba_check
    ep_msix_pending_only_masked: assert property (@(posedge clk_i) disable iff (!rst_ni)
      !pending_q[v] && pending_d[v] |-> function_mask_i || mask_i[v]);
  end
  // The MSI output holds a message, unchanged, until it is taken.
  ep_msix_msi_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
    msi_valid_o && !msi_ready_i |=> msi_valid_o && $stable(msi_addr_o) && $stable(msi_data_o));
`endif

endmodule

`default_nettype wire
