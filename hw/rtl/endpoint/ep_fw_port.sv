`default_nettype none

// The firmware's side of every endpoint (IDeviceHal in the firmware): the firmware CSR port
// (fw_csr of hw/regs/fw_csr.rdl) and the event FIFO behind it, with the identity registers that
// only depend on the personality's description. The personality drives the rest of fw_csr's
// hardware inputs (virtio state, queue registers) on hw2reg_i; the fields this block owns
// (personality, chunk_slots, evt_*) are taken from here, not from hw2reg_i.
module ep_fw_port #(
  parameter int unsigned FwAw           = 12,
  parameter int unsigned EventDepth     = 64,
  parameter int unsigned NP             = 1,   // event push ports
  parameter logic [7:0]  VirtioDeviceId = '0,
  parameter int unsigned Queues         = 0,
  parameter int unsigned Vectors        = 0,
  parameter int unsigned ChunkSlots     = 0
) (
  input  wire logic                 clk_i,
  input  wire logic                 rst_ni,
  // The firmware CSR port (fw_csr at offset 0, FwAw address bits)
  input  wire axil_pkg::axil_req_t  fw_req_i,
  output axil_pkg::axil_rsp_t       fw_rsp_o,
  // Events for firmware, port i in bits 8*i (kind) and 32*i (data); held until granted
  input  wire logic [NP-1:0]        push_i,
  input  wire logic [8*NP-1:0]      push_kind_i,
  input  wire logic [32*NP-1:0]     push_data_i,
  output logic [NP-1:0]             push_grant_o,
  output logic                      fw_irq_o,      // the event FIFO is not empty
  output fw_csr_reg_pkg::fw_csr_reg2hw_t reg2hw_o,
  input  wire fw_csr_reg_pkg::fw_csr_hw2reg_t hw2reg_i
);

  fw_csr_reg_pkg::fw_csr_hw2reg_t hw2reg;
  logic [15:0] evt_count;
  logic [7:0]  evt_head_kind;
  logic [31:0] evt_head_data;
  logic        evt_overflow;

  ep_event_fifo #(.Depth(EventDepth), .NP(NP)) u_events (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .push_i      (push_i),
    .push_kind_i (push_kind_i),
    .push_data_i (push_data_i),
    .push_grant_o(push_grant_o),
    .pop_i       (reg2hw_o.evt_pop.pop.q),
    .count_o     (evt_count),
    .head_kind_o (evt_head_kind),
    .head_data_o (evt_head_data),
    .overflow_o  (evt_overflow)
  );
  assign fw_irq_o = evt_count != 16'h0;

  fw_csr_reg_top #(.AW(FwAw)) u_fw_csr (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    `AXIL_REG_BLOCK_PORTS(fw_req_i, fw_rsp_o, FwAw, 0),
    .reg2hw_o        (reg2hw_o),
    .hw2reg_i        (hw2reg)
  );

  always_comb begin
    hw2reg = hw2reg_i;
    hw2reg.personality.device_id.d = VirtioDeviceId;
    hw2reg.personality.device_id.de = 1'b1;
    hw2reg.personality.num_queues.d = 8'(Queues);
    hw2reg.personality.num_queues.de = 1'b1;
    hw2reg.personality.msix_vectors.d = 12'(Vectors);
    hw2reg.personality.msix_vectors.de = 1'b1;
    hw2reg.chunk_slots.chunk_slots.d = 32'(ChunkSlots);
    hw2reg.chunk_slots.chunk_slots.de = 1'b1;
    hw2reg.evt_status.count.d = evt_count;
    hw2reg.evt_status.count.de = 1'b1;
    hw2reg.evt_status.overflow.set = evt_overflow;
    hw2reg.evt_kind.kind.d = evt_head_kind;
    hw2reg.evt_kind.kind.de = 1'b1;
    hw2reg.evt_data.data.d = evt_head_data;
    hw2reg.evt_data.data.de = 1'b1;
  end

endmodule

`default_nettype wire
